"""Logging in: password sessions with CSRF, API tokens, one-time login links, deactivated users,
and how passwords are stored. Over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from limner.client import ApiError, Client
from limner.store.models import User
from limner.store.users import create_login_token

CSRF_MESSAGE = "a browser session needs the X-CSRF-Token header (from the limner_csrf cookie) on writes"
BAD_TOKEN = "the API token is not valid: revoked, expired or mistyped"
LOGIN_FIRST = "log in first: send a session cookie or an Authorization: Bearer token"


def cookie_attrs(response: httpx.Response, name: str) -> tuple[str, dict[str, str]]:
    """(value, {attribute: value}) of one Set-Cookie header, attribute names lower-cased."""
    for header in response.headers.get_list("set-cookie"):
        first, *attrs = [part.strip() for part in header.split(";")]
        key, _, value = first.partition("=")
        if key == name:
            out = {}
            for a in attrs:
                k, _, v = a.partition("=")
                out[k.lower()] = v
            return value.strip('"'), out
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def browser(live) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=30)


def password_login(http: httpx.Client, username: str, password: str = "password123") -> httpx.Response:
    return http.post("/api/v1/auth/login", json={"username": username, "password": password})


def login_status(live, username: str, password: str = "password123") -> int:
    with browser(live) as http:
        return password_login(http, username, password).status_code


def test_login_sets_httponly_session_and_readable_csrf_cookies(live):
    user, _ = live.new_user("cookie")
    with browser(live) as http:
        r = password_login(http, user["username"])
        assert r.status_code == 200
        body = r.json()
        assert (body["username"], body["id"], body["is_admin"]) == (user["username"], user["id"], False)
        session, s_attrs = cookie_attrs(r, "limner_session")
        csrf, c_attrs = cookie_attrs(r, "limner_csrf")
        assert len(session) >= 32 and session != csrf
        assert "httponly" in s_attrs and s_attrs["samesite"].lower() == "lax" and s_attrs["path"] == "/"
        assert "httponly" not in c_attrs and c_attrs["samesite"].lower() == "lax" and c_attrs["path"] == "/"
        assert csrf == body["csrf_token"]  # the page reads it from the cookie or the answer
        assert int(s_attrs["max-age"]) == int(c_attrs["max-age"]) > 86400
        assert http.get("/api/v1/auth/me").json()["username"] == user["username"]


@pytest.mark.parametrize("header", [None, "", "wrong-token"])
def test_cookie_write_without_the_csrf_header_is_refused(live, header):
    user, _ = live.new_user("csrf")
    with browser(live) as http:
        r = password_login(http, user["username"])
        headers = {} if header is None else {"X-CSRF-Token": header}
        refused = http.post("/api/v1/projects", json={"name": "nope"}, headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {"detail": CSRF_MESSAGE, "field": None}
        assert http.get("/api/v1/projects").json()["total"] == 0  # nothing was created


def test_cookie_write_with_the_csrf_header_succeeds_and_reads_need_none(live):
    user, _ = live.new_user("csrf")
    with browser(live) as http:
        r = password_login(http, user["username"])
        csrf = http.cookies["limner_csrf"]
        made = http.post("/api/v1/projects", json={"name": "with csrf"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["role"] == "owner"
        listed = http.get("/api/v1/projects")  # no header on a read
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()["items"]] == ["with csrf"]
        # the CSRF token of another session is not this session's
        with browser(live) as other:
            r2 = password_login(other, user["username"])
        assert r2.json()["csrf_token"] != csrf
        wrong = http.patch(f"/api/v1/projects/{made.json()['id']}", json={"name": "x"},
                           headers={"X-CSRF-Token": r2.json()["csrf_token"]})
        assert wrong.status_code == 403


def test_logout_ends_the_session(live):
    user, _ = live.new_user("logout")
    with browser(live) as http:
        r = password_login(http, user["username"])
        session = http.cookies["limner_session"]
        out = http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
        assert out.status_code == 200 and out.json() == {"ok": True}
        gone, attrs = cookie_attrs(out, "limner_session")
        assert gone == "" and attrs["max-age"] == "0"
    with browser(live) as replay:  # the old cookie, sent again, opens nothing
        replay.cookies.set("limner_session", session)
        me = replay.get("/api/v1/auth/me")
        assert me.status_code == 401 and me.json() == {"detail": LOGIN_FIRST, "field": None}


@pytest.mark.parametrize("who", ["known user", "unknown user"])
def test_wrong_password_is_401_on_the_password_field(live, who):
    user, _ = live.new_user("pw")
    name = user["username"] if who == "known user" else "nobody-by-this-name"
    with browser(live) as http:
        r = password_login(http, name, "not-the-password")
        assert r.status_code == 401
        assert r.json() == {"detail": "wrong username or password", "field": "password"}
        assert "limner_session" not in http.cookies


def test_api_token_shown_once_listed_by_prefix_used_and_revoked(live):
    user, c = live.new_user("tok")
    created = c.create_token("ci runner")
    token = created["token"]
    assert token.startswith("lmn_") and len(token) > 40
    assert (created["name"], created["prefix"]) == ("ci runner", token[:8])
    with Client(live.url, token) as sdk:
        assert sdk.me()["username"] == user["username"]
    listed = {t["id"]: t for t in c.list_tokens()}
    row = listed[created["id"]]
    assert "token" not in row and row["prefix"] == token[:8] and row["name"] == "ci runner"
    assert row["last_used_at"] is not None  # used just now
    assert all(token not in str(t) for t in listed.values())

    c.revoke_token(created["id"])
    assert created["id"] not in [t["id"] for t in c.list_tokens()]
    with Client(live.url, token) as sdk, pytest.raises(ApiError) as e:
        sdk.me()
    assert (e.value.status, e.value.detail, e.value.field) == (401, BAD_TOKEN, None)


def test_a_token_of_someone_else_cannot_be_revoked(live):
    _, alice = live.new_user("alice")
    _, bob = live.new_user("bob")
    t = alice.create_token("mine")
    with pytest.raises(ApiError) as e:
        bob.revoke_token(t["id"])
    assert (e.value.status, e.value.detail) == (404, f"no API token with id {t['id']}")
    assert t["id"] in [x["id"] for x in alice.list_tokens()]


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Token abc", "the Authorization header must be 'Bearer <token>'"),
        ("Basic dXNlcjpwYXNzd29yZA==", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer", "the Authorization header must be 'Bearer <token>'"),
        ("lmn_abcdef", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer lmn_not-a-real-token", BAD_TOKEN),
    ],
)
def test_malformed_or_unknown_authorization_is_401(live, header, detail):
    with browser(live) as http:
        r = http.get("/api/v1/auth/me", headers={"Authorization": header})
        assert r.status_code == 401
        assert r.json() == {"detail": detail, "field": None}
        # even on a route that anonymous users may call: a bad credential is never ignored
        assert http.post("/api/v1/auth/logout", headers={"Authorization": header}).status_code == 401


def _login_link(live, user_id: int, minutes: int) -> str:
    with live.services.db.write() as s:
        return create_login_token(s, s.get(User, user_id), minutes)


def test_one_time_login_link_opens_a_session_once(live):
    user, _ = live.new_user("link")
    token = _login_link(live, user["id"], 10)
    with browser(live) as http:
        r = http.get("/login", params={"token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        session, attrs = cookie_attrs(r, "limner_session")
        assert session and "httponly" in attrs
        csrf, _ = cookie_attrs(r, "limner_csrf")
        assert http.get("/api/v1/auth/me").json()["username"] == user["username"]
        made = http.post("/api/v1/projects", json={"name": "via link"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201
    with browser(live) as http:
        again = http.get("/login", params={"token": token}, follow_redirects=False)
        assert again.status_code == 401
        assert "text/html" in again.headers["content-type"]
        assert "This login link was used already or has expired" in again.text
        assert "limner_session" not in http.cookies


@pytest.mark.parametrize("token", ["expired", "unknown"])
def test_expired_or_unknown_login_link_is_401(live, token):
    user, _ = live.new_user("link")
    value = _login_link(live, user["id"], -1) if token == "expired" else "no-such-link"
    with browser(live) as http:
        r = http.get("/login", params={"token": value}, follow_redirects=False)
        assert r.status_code == 401 and "used already or has expired" in r.text
        assert r.headers.get_list("set-cookie") == []


def test_login_page_without_a_token_just_goes_home(live):
    with browser(live) as http:
        r = http.get("/login", follow_redirects=False)
        assert (r.status_code, r.headers["location"], r.headers.get_list("set-cookie")) == (303, "/", [])


def test_deactivated_user_loses_token_session_password_and_link(live, admin):
    user, c = live.new_user("leaver")
    with browser(live) as http:
        r = password_login(http, user["username"])
        assert http.get("/api/v1/auth/me").status_code == 200
        assert admin.update_user(user["id"], is_active=False)["is_active"] is False

        with pytest.raises(ApiError) as e:
            c.me()
        assert (e.value.status, e.value.detail) == (401, BAD_TOKEN)
        me = http.get("/api/v1/auth/me")
        assert me.status_code == 401 and me.json()["detail"] == LOGIN_FIRST
        assert login_status(live, user["username"]) == 401
        link = _login_link(live, user["id"], 10)
        with browser(live) as other:
            assert other.get("/login", params={"token": link}, follow_redirects=False).status_code == 401

        admin.update_user(user["id"], is_active=True)  # and back: the same token works again
        assert c.me()["username"] == user["username"]


def test_users_change_their_own_password(live):
    user, c = live.new_user("chpw")
    assert c.update_user(user["id"], password="a-new-password")["id"] == user["id"]
    assert login_status(live, user["username"]) == 401
    assert login_status(live, user["username"], "a-new-password") == 200
    with pytest.raises(ApiError) as e:
        c.update_user(user["id"], password="short")
    assert (e.value.status, e.value.field) == (422, "password")
    assert "at least 8 characters" in e.value.detail


def test_passwords_are_stored_as_argon2_hashes(live, admin):
    user, _ = live.new_user("hash", password="correct horse battery")
    no_password = admin.create_user(f"nopw-{user['id']}")
    with live.services.db.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.id == user["id"]))
        empty = s.scalar(select(User.password_hash).where(User.id == no_password["id"]))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert empty is None
    assert login_status(live, no_password["username"], "") == 401  # no password, no login
    assert "password" not in user and "password_hash" not in admin.get_user(user["id"])
