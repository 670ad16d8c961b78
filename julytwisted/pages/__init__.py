# -*- test-case-name: tests.pages.test_pages -*-
"""
The web site: public boards, sign-up, sign-in and profile, the pages the
mailed links open, the admin pages, their templates, and the site's static
files.
"""

from julytwisted.pages._oauth import HostSignInPages
from julytwisted.pages._render import StaticFiles
from julytwisted.pages.accounts import FORM_MAX_BODY, Accounts
from julytwisted.pages.admin import Admin
from julytwisted.pages.boards import PAGE_SIZE, Pages
from julytwisted.pages.mail_links import MailLinks

__all__ = [
    "FORM_MAX_BODY",
    "PAGE_SIZE",
    "Accounts",
    "Admin",
    "HostSignInPages",
    "MailLinks",
    "Pages",
    "StaticFiles",
]
