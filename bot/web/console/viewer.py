"""Who is looking at a console page: the signed-in person, the language and the timezone
the page is written in, and the form token every POST from the page must carry.

The sign-in middleware puts a ``Viewer`` on each request it lets through; a page reads it
with ``viewer_of`` and never looks at cookies itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from aiohttp import web

from playbooks.people import Person, Role

# Where a request without a session is sent: the page that says how to get a link.
SIGN_IN_PATH = "/web/signin"


@dataclass(frozen=True, slots=True)
class Viewer:
    person: Person
    locale: str  # "en" | "zh"
    tz: tzinfo
    csrf: str  # this session's form token: every POST under /web carries it as ``csrf``
    session_id: str  # the session's key in the database (a hash: never the cookie's value)

    def can(self, role: Role) -> bool:
        return self.person.has_role(role)


VIEWER_KEY = web.RequestKey("shipwatch.viewer", Viewer)


def viewer_of(request: web.Request) -> Viewer:
    """The signed-in person behind this request; without one, a redirect to sign in."""
    viewer = request.get(VIEWER_KEY)
    if not isinstance(viewer, Viewer):
        raise web.HTTPSeeOther(location=SIGN_IN_PATH)
    return viewer
