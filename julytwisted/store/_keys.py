# -*- test-case-name: tests.store.test_store -*-
"""
The Redis keys Python spells, each once.  The Lua scripts of C{lua/} spell
the ones only they touch; both spell them as C{j:<what>:<id>[:<part>]}.
"""

from __future__ import annotations

from julytwisted.models import Board

#: The pub/sub channel every push's feed entries are published on.
LIVE_PUBSUB = "j:live"

#: Every commit's hash, in the order of its arrival (scored by C{j:seq}).
COMMITS = "j:commits"
#: Every commit's hash, scored by its push's arrival (seconds since the
#: epoch): what a recount finds a game's window took in; spelled also in
#: C{lua/ingest.lua} and C{lua/recount.lua}.
COMMITS_ARRIVED = "j:commits:arrived"
#: Teams waiting for an admin's approval; the team scripts keep it.
TEAMS_WAITING = "j:teams:waiting"
#: Commits held for review, scored by when their review days run out
#: (C{+inf}: flagged or reported, they wait for an admin); spelled also in
#: C{lua/ingest.lua} and C{lua/review.lua}.
REVIEW_HELD = "j:review:held"
#: Commits players reported, scored by the first report's time.
REVIEW_REPORTED = "j:review:reported"
#: The review's audit log, newest first (JSON entries).
REVIEW_LOG = "j:review:log"
#: A C{SORT ... GET} pattern: the name of each team sorted.
TEAM_NAME_PATTERN = "j:team:*->name"
#: A C{SCAN MATCH} pattern: every orphan set.
ORPHANS_PATTERN = "j:orphans:*"
#: A C{SCAN MATCH} pattern: every player's e-mails as kept before e-mails
#: were verified (see L{legacy_player_emails}).
LEGACY_EMAILS_PATTERN = "j:player:*:emails"

#: Each board's members' own hashes, by prefix (languages have none).
BOARD_PREFIXES: dict[str, str] = {
    Board.PEOPLE: "j:player:",
    Board.PROJECTS: "j:project:",
    Board.LOCATIONS: "j:location:",
    Board.TEAMS: "j:team:",
    Board.LANGUAGES: "",
}


def player(username: str) -> str:
    """A player's hash: name, location, team, picture_url."""
    return f"j:player:{username}"


def player_verified(username: str) -> str:
    """
    The set of a player's verified commit e-mails: confirmed through a
    mailed link or vouched for by an admin.  Only these score.
    """
    return f"j:player:{username}:verified"


def player_pending(username: str) -> str:
    """
    A player's pending e-mail claims: each e-mail to the nonce of its latest
    confirmation link (empty before one is made).  They score nothing.
    """
    return f"j:player:{username}:pending"


def legacy_player_emails(username: str) -> str:
    """
    The set of a player's e-mails, verified or not, as kept before e-mails
    were verified; the start-up migration turns it into L{player_verified}
    and L{player_pending} and deletes it.
    """
    return f"j:player:{username}:emails"


def player_tokens(username: str) -> str:
    """The set of the SHA-256 digests of a player's API tokens."""
    return f"j:player:{username}:tokens"


def player_commits(username: str) -> str:
    """A player's commits, scored by arrival."""
    return f"j:player:{username}:commits"


def player_upload_bytes(username: str) -> str:
    """The bytes of distinct files a player has uploaded."""
    return f"j:player:{username}:upload_bytes"


def player_sessions(username: str) -> str:
    """The set of the digests of a player's web sessions (L{session})."""
    return f"j:player:{username}:sessions"


#: The start of every web session's key; the session scripts take it as an
#: argument, so that this is its one spelling.
SESSION_PREFIX = "j:session:"


def session(digest: str) -> str:
    """
    A web session by the SHA-256 of its id (never the id itself): C{u} its
    player or empty, C{a} the admin token's fingerprint or empty.
    """
    return SESSION_PREFIX + digest


def credentials(username: str) -> str:
    """A player's password hash, apart from the public player hash."""
    return f"j:auth:{username}"


def token(digest: str) -> str:
    """The owner of an API token, by its SHA-256 digest."""
    return f"j:token:{digest}"


def email(address: str) -> str:
    """The player who owns a commit e-mail: its one verified owner."""
    return f"j:email:{address}"


def email_claims(address: str) -> str:
    """The players with a pending claim of an e-mail (see L{player_pending})."""
    return f"j:email-claims:{address}"


def password_reset(username: str) -> str:
    """The nonce of a player's password reset link, while it lasts."""
    return f"j:reset:{username}"


def orphans(address: str) -> str:
    """The orphan commits of an e-mail (see L{ORPHANS_PATTERN})."""
    return f"j:orphans:{address}"


def group_members(kind: str, slug: str) -> str:
    """
    The set of the usernames of a location's or a team's members (C{kind}
    L{Board.LOCATIONS} or L{Board.TEAMS}); the scripts that make and move
    players keep it.
    """
    return f"{BOARD_PREFIXES[kind]}{slug}:members"


def project(slug: str) -> str:
    """A project's hash: name, url, service, watchers, active..."""
    return f"j:project:{slug}"


#: A C{SCAN MATCH} pattern: every project's URL key (L{project_url}).
PROJECT_URLS_PATTERN = "j:project-url:*"


def project_commits(slug: str) -> str:
    """A project's commits, scored by arrival."""
    return f"j:project:{slug}:commits"


def project_pending(slug: str) -> str:
    """
    A project's commits waiting for their host's word (C{--verify-commits}),
    scored by arrival; C{lua/ingest.lua} adds them, C{lua/verify.lua} takes
    them off.
    """
    return f"j:project:{slug}:pending"


def project_screenshots(slug: str) -> str:
    """A project's screenshots' SHA-256s, scored by upload time."""
    return f"j:project:{slug}:screenshots"


#: The games kept in Redis (made at run time or seeded from C{--game}): each
#: slug to its definition as JSON (C{lua/save_game.lua} writes it).
GAMES = "j:games"
#: A token set anew by every change of L{GAMES}: each node reloads when it
#: differs from the one it loaded.
GAMES_VERSION = "j:games:version"


def game_log(slug: str) -> str:
    """A game's changes, oldest first, each as JSON: who, when, what."""
    return f"j:game:{slug}:log"


def game_commits(slug: str) -> str:
    """The commits that scored in a game, scored by arrival."""
    return f"j:game:{slug}:commits"


def game_pending(slug: str) -> str:
    """
    The pending commits that would score in a game once verified (or once
    their review lets them), scored by arrival (spelled in
    C{lua/_scoring.lua}'s C{wait_in_game} and C{unwait_in_game}).
    """
    return f"j:game:{slug}:pending"


def game_pending_count(slug: str, board: str) -> str:
    """
    How many of a game's pending commits (L{game_pending}) each member of a
    board has: username or project slug to a count, for C{board} C{"people"}
    or C{"projects"}.  Kept beside the set by C{lua/_scoring.lua}, rebuilt by
    the recount; C{lua/board.lua} reads it for the rows it shows.
    """
    return f"j:game:{slug}:pending:{board}"


def commit(hash: str) -> str:
    """A commit's hash of fields."""
    return f"j:commit:{hash}"


def commit_reports(hash: str) -> str:
    """The reasons players reported a commit for, by player."""
    return f"j:commit:{hash}:reports"


def commit_review_log(hash: str) -> str:
    """One commit's review log, newest first."""
    return f"j:commit:{hash}:review-log"


def file(sha256: str) -> str:
    """An uploaded file's facts."""
    return f"j:file:{sha256}"


def feed(channel: str) -> str:
    """A channel's stream of feed entries."""
    return f"j:feed:{channel}"


def rate_limit(name: str, client: str) -> str:
    """A client's theoretical arrival time under one named limit (GCRA)."""
    return f"j:rl:{name}:{client}"


def credential_failures(kind: str, digest: str) -> str:
    """The failure budget of a client address (C{kind} "a") or username ("u")."""
    return f"j:cf:{kind}:{digest}"


def host_account(host: str, host_id: str) -> str:
    """The player a code host's account (its stable id there) signs in."""
    return f"j:host:{host}:{host_id}"


def player_hosts(username: str) -> str:
    """A player's linked code host accounts: host -> JSON {id, login}."""
    return f"j:player:{username}:hosts"


def player_host_token(username: str, host: str) -> str:
    """A player's token at a code host, encrypted (never in clear)."""
    return f"j:player:{username}:host-token:{host}"


def oauth_flow(digest: str) -> str:
    """
    A sign-in begun with a code host, by the SHA-256 of the nonce its
    browser's cookie holds: the state, the PKCE verifier, who links.
    """
    return f"j:oauth:{digest}"


def repository(key: str) -> str:
    """
    A repository a player added, by its record's key: host, id, url, path,
    owner, sealed secret, hook, project, created, proof, lapses.
    """
    return f"j:repository:{key}"


def repository_by_id(host: str, host_id: str) -> str:
    """The record key of the repository a host's id names."""
    return f"j:repository-id:{host}:{host_id}"


def repository_by_url(url: str) -> str:
    """The record key of the repository a canonical URL names, lower-cased."""
    return f"j:repository-url:{url.lower()}"


def player_repositories(username: str) -> str:
    """The record keys of a player's repositories, scored by when added."""
    return f"j:player:{username}:repositories"


def repo_project(host: str, host_id: str) -> str:
    """The project slug of a repository, by its host and the host's id."""
    return f"j:repo-project:{host}:{host_id}"


def project_url(url: str) -> str:
    """The project slug of a repository, by its canonical URL lower-cased."""
    return f"j:project-url:{url.lower()}"


def private_board(board_id: str) -> str:
    """
    A private board's hash: name, owner, game, start, end (and their
    sortable forms), cap, code, token, created.
    """
    return f"j:pboard:{board_id}"


def private_board_members(board_id: str) -> str:
    """A private board's members' usernames, scored by when they joined."""
    return f"j:pboard:{board_id}:members"


def private_board_standings(board_id: str) -> str:
    """A private board's ranking as last computed, kept for a few seconds."""
    return f"j:pboard:{board_id}:standings"


def private_board_code(code: str) -> str:
    """The private board a join code opens, while it is the board's code."""
    return f"j:pboard-code:{code}"


def player_private_boards(username: str) -> str:
    """The ids of the private boards a player is a member of (owned ones too)."""
    return f"j:player:{username}:pboards"


def player_owned_boards(username: str) -> str:
    """The ids of the private boards a player owns."""
    return f"j:player:{username}:pboards-owned"
