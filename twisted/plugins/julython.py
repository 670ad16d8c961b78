"""
The C{julython} twistd plugin: C{twistd -n julython --help}.

Names the modules that build the service by string, so that listing plugins
imports nothing that installs a reactor.
"""

from twisted.application.service import ServiceMaker

julython = ServiceMaker(
    "julython",
    "julytwisted.tap",
    "Run a Julython-style coding competition: webhooks, boards, live feed, JSON-RPC.",
    "julython",
)
