# -*- test-case-name: tests.pages.test_pages -*-
"""
The web site: public boards, sign-up, sign-in and profile, the admin pages,
their templates, and the site's static files.
"""

from julytwisted.pages._oauth import HostSignInPages
from julytwisted.pages._render import StaticFiles
from julytwisted.pages.accounts import FORM_MAX_BODY, Accounts
from julytwisted.pages.admin import Admin
from julytwisted.pages.boards import PAGE_SIZE, Pages

__all__ = [
    "FORM_MAX_BODY",
    "PAGE_SIZE",
    "Accounts",
    "Admin",
    "HostSignInPages",
    "Pages",
    "StaticFiles",
]
