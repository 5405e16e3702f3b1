#!/usr/bin/env python3
"""Local simulator of Google (OAuth 2.0 / OIDC + Calendar v3) and MercadoPago.

Used by the end-to-end tests and the local demo.  Standard library only.
One port serves everything:

    Google API root        http://HOST:PORT            (/calendar/v3/...)
    OAuth                  /o/oauth2/v2/auth, /token, /revoke, /v1/userinfo
    MercadoPago API root   http://HOST:PORT/mp         (/mp/v1/payments/{id},
                                                /mp/checkout/preferences)
    control API            /_sim/...                   (JSON in, JSON out)

Behaviour follows Google's and MercadoPago's documented APIs and the
Calendar v3 discovery document, which is loaded at start-up (request bodies are validated against
its `Event` schema, query parameters against its method descriptions).

    python3 tests/sim/simulator.py --host 127.0.0.1 --port 0 \
        --port-file /tmp/sim.port [--log /tmp/sim.log] [--discovery PATH]

See README.md next to this file for the URL layout and the control API.
"""

import argparse
import base64
import copy
import datetime as dt
import email.utils
import functools
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import string
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import zoneinfo
from collections import deque

UTC = dt.timezone.utc

DEFAULT_CALENDAR_ID = "school@group.calendar.google.com"
DEFAULT_TIME_ZONE = "America/Argentina/Buenos_Aires"
MAX_BODY = 16 * 1024 * 1024
CALENDAR_SCOPE_PREFIX = "https://www.googleapis.com/auth/"
MEET_ICON = ("https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/"
             "web-512dp/logo_meet_2020q4_color_2x_web_512dp.png")
GOOGLE_JSON = "application/json; charset=UTF-8"
PLAIN_JSON = "application/json; charset=utf-8"


# ---------------------------------------------------------------------------
# Errors and responses
# ---------------------------------------------------------------------------

class Response:
    """An HTTP answer: status, headers (list of pairs) and a body (bytes)."""

    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.headers = list(headers or [])
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        if content_type:
            self.headers.append(("Content-Type", content_type))


def json_response(status, value, content_type=PLAIN_JSON, headers=None,
                  pretty=False):
    text = json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a test's odd event text) cannot be UTF-8: it
        # goes out as a \uD800-style escape, as a JSON encoder writes it.
        text = json.dumps(value, indent=2 if pretty else None)
    return Response(status, text + ("\n" if pretty else ""), content_type,
                    headers)


class HttpError(Exception):
    """Raised by handlers; carries the complete response to send."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def google_error_body(status, reason, message, domain="global",
                      location_type=None, location=None, extra=None):
    """Google's legacy ("apiary") error shape, protocols.md §5.1."""
    err = {"domain": domain, "reason": reason, "message": message}
    if location_type:
        err["locationType"] = location_type
        err["location"] = location
    body = {"error": {"errors": [err], "code": status, "message": message}}
    if extra:
        body["error"].update(extra)
    return body


def gerror(status, reason, message, domain="global", location_type=None,
           location=None, headers=None, extra=None):
    """A Google-shaped error as an exception, ready to raise."""
    body = google_error_body(status, reason, message, domain, location_type,
                             location, extra)
    return HttpError(json_response(status, body, GOOGLE_JSON, headers))


def bad_param(name, value, why=None):
    msg = why or "Invalid value '%s' for parameter %s." % (value, name)
    return gerror(400, "invalidParameter", msg, location_type="parameter",
                  location=name)


def invalid(message, location=None):
    return gerror(400, "invalid", message,
                  location_type="parameter" if location else None,
                  location=location)


# Default bodies for fault rules and generic failures, by status.
GOOGLE_DEFAULT_ERRORS = {
    400: ("global", "badRequest", "Bad Request"),
    401: ("global", "authError", "Invalid Credentials"),
    403: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("global", "notFound", "Not Found"),
    409: ("global", "conflict", "Conflict"),
    410: ("global", "deleted", "Resource has been deleted"),
    412: ("global", "conditionNotMet", "Precondition Failed"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    502: ("global", "backendError", "Bad Gateway"),
    503: ("global", "backendError", "Backend Error"),
    504: ("global", "backendError", "Deadline Exceeded"),
}

MP_DEFAULT_ERRORS = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "invalid access token"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    429: ("too_many_requests", "Too many requests"),
    500: ("internal_server_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service unavailable"),
    504: ("gateway_timeout", "Gateway timeout"),
}

OAUTH_DEFAULT_ERRORS = {
    400: ("invalid_request", "Bad Request"),
    401: ("invalid_client", "Unauthorized"),
    403: ("access_denied", "Forbidden"),
    429: ("rate_limit_exceeded", "Rate Limit Exceeded"),
    500: ("server_error", "Backend Error"),
    503: ("temporarily_unavailable", "Service unavailable"),
}


def default_error_response(status, path):
    """The error a real service would send for `status` on `path`."""
    phrase = http.client.responses.get(status, "Error")
    if path.startswith("/mp/") or path == "/mp":
        err, msg = MP_DEFAULT_ERRORS.get(
            status, (phrase.lower().replace(" ", "_"), phrase))
        return json_response(status, {"message": msg, "error": err,
                                      "status": status, "cause": []})
    if path in ("/token", "/revoke") or path.startswith("/v1/userinfo") \
            or path.startswith("/oauth2/") or path == "/tokeninfo":
        err, msg = OAUTH_DEFAULT_ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request",
                     phrase))
        return json_response(status, {"error": err, "error_description": msg})
    if path.startswith("/o/oauth2/"):
        return html_page(status, "Error %d" % status, phrase)
    if status < 400:
        return json_response(status, {})
    domain, reason, msg = GOOGLE_DEFAULT_ERRORS.get(
        status, ("global", "backendError" if status >= 500 else "badRequest",
                 phrase))
    return json_response(status, google_error_body(status, reason, msg,
                                                   domain), GOOGLE_JSON)


def html_page(status, title, text, headers=None):
    esc = lambda s: (str(s).replace("&", "&amp;").replace("<", "&lt;")
                     .replace(">", "&gt;"))
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s"
            "</title></head><body><h1>%s</h1><p>%s</p></body></html>\n"
            % (esc(title), esc(title), esc(text)))
    return Response(status, page, "text/html; charset=utf-8", headers)


# ---------------------------------------------------------------------------
# Small helpers: base64url, JSON bodies, random ids
# ---------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rand_token(nbytes=32):
    return b64url(secrets.token_bytes(nbytes))


def base32hex_id(nbytes=16):
    """An event id as Google makes them: characters a-v and 0-9."""
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    n = int.from_bytes(secrets.token_bytes(nbytes), "big")
    out = []
    for _ in range(26):
        out.append(alphabet[n & 31])
        n >>= 5
    return "".join(out)


def meet_code():
    letters = string.ascii_lowercase
    part = lambda n: "".join(random.choice(letters) for _ in range(n))
    return "%s-%s-%s" % (part(3), part(4), part(3))


def first(query, name, default=None):
    vals = query.get(name)
    return vals[0] if vals else default


def parse_bool(value, name):
    if value is None:
        return None
    low = value.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad_param(name, value)


# ---------------------------------------------------------------------------
# Time: RFC 3339 parsing and formatting, zones
# ---------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"([Zz]|[+-]\d{2}:\d{2})?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_zone_cache = {}


def get_zone(name):
    """zoneinfo.ZoneInfo for an IANA name, or None if unknown/invalid."""
    if not isinstance(name, str) or not name or len(name) > 100:
        return None
    if name in _zone_cache:
        return _zone_cache[name]
    try:
        zone = zoneinfo.ZoneInfo(name)
    except Exception:
        zone = None
    _zone_cache[name] = zone
    return zone


def parse_rfc3339(text, require_offset=True):
    """Aware datetime (naive if no offset and not required), or None."""
    if not isinstance(text, str):
        return None
    return _parse_rfc3339(text, require_offset)


@functools.lru_cache(maxsize=100000)
def _parse_rfc3339(text, require_offset):
    m = _RFC3339.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = m.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    off = m.group(8)
    tz = None
    if off is None:
        if require_offset:
            return None
    elif off in ("Z", "z"):
        tz = UTC
    else:
        hh, mm = int(off[1:3]), int(off[4:6])
        if hh > 23 or mm > 59:
            return None
        delta = dt.timedelta(hours=hh, minutes=mm)
        tz = dt.timezone(-delta if off[0] == "-" else delta)
    try:
        return dt.datetime(y, mo, d, h, mi, s, micro, tzinfo=tz)
    except ValueError:
        return None


def parse_date(text):
    if not isinstance(text, str) or not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def fmt_offset(moment, tz):
    """RFC 3339 with the zone's offset, no fraction ('Z' for UTC)."""
    local = moment.astimezone(tz)
    off = local.utcoffset() or dt.timedelta(0)
    base = local.strftime("%Y-%m-%dT%H:%M:%S")
    if off == dt.timedelta(0):
        return base + "Z"
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return "%s%s%02d:%02d" % (base, sign, mins // 60, mins % 60)


def fmt_millis(epoch):
    """RFC 3339 UTC with milliseconds, as Google writes created/updated."""
    moment = dt.datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        moment.microsecond // 1000)


def localize(naive, tz):
    return naive.replace(tzinfo=tz)


def midnight(day, tz):
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


# ---------------------------------------------------------------------------
# Event times: EventDateTime -> instants
# ---------------------------------------------------------------------------

def edt_instant(edt, cal_tz):
    """The instant an EventDateTime denotes (all-day: local midnight in the
    calendar's zone), or None when it cannot be read."""
    if not isinstance(edt, dict):
        return None
    if edt.get("dateTime") is not None:
        moment = parse_rfc3339(edt["dateTime"], require_offset=False)
        if moment is None:
            return None
        if moment.tzinfo is None:
            zone = get_zone(edt.get("timeZone")) or cal_tz
            moment = localize(moment, zone)
        return moment
    if edt.get("date") is not None:
        day = parse_date(edt["date"])
        return midnight(day, cal_tz) if day else None
    return None


def event_zone(edt, cal_tz):
    """The zone an event's wall times live in (its timeZone, else the
    offset of its dateTime, else the calendar's)."""
    if isinstance(edt, dict):
        zone = get_zone(edt.get("timeZone"))
        if zone:
            return zone
        moment = parse_rfc3339(edt.get("dateTime"), require_offset=False)
        if moment is not None and moment.tzinfo is not None:
            return moment.tzinfo
    return cal_tz


def render_edt(edt, out_tz):
    """An EventDateTime as Google answers it: dateTime in the output zone's
    offset (the request's timeZone or the calendar's), timeZone kept."""
    if not isinstance(edt, dict):
        return edt
    out = dict(edt)
    if edt.get("dateTime") is not None:
        moment = parse_rfc3339(edt["dateTime"], require_offset=False)
        if moment is not None:
            if moment.tzinfo is None:
                moment = localize(moment, get_zone(edt.get("timeZone"))
                                  or out_tz)
            out["dateTime"] = fmt_offset(moment, out_tz)
    return out


# ---------------------------------------------------------------------------
# Recurrence: RRULE (DAILY/WEEKLY), RDATE, EXDATE
# ---------------------------------------------------------------------------

WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
RRULE_KEYS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST"}
MAX_INSTANCES = 5000
HORIZON = dt.timedelta(days=730)


class RecurrenceError(ValueError):
    pass


def _parse_ical_time(value, params, zone):
    """One EXDATE/RDATE/UNTIL value: ('date', date) or ('dt', aware)."""
    value = value.strip()
    if params.get("VALUE") == "DATE" or re.match(r"^\d{8}$", value):
        try:
            return ("date", dt.datetime.strptime(value, "%Y%m%d").date())
        except ValueError:
            raise RecurrenceError(value)
    m = re.match(r"^(\d{8}T\d{6})(Z?)$", value)
    if not m:
        raise RecurrenceError(value)
    try:
        naive = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
    except ValueError:
        raise RecurrenceError(value)
    if m.group(2):
        return ("dt", naive.replace(tzinfo=UTC))
    tzid = params.get("TZID")
    if tzid:
        zone = get_zone(tzid)
        if zone is None:
            raise RecurrenceError(tzid)
    return ("dt", localize(naive, zone))


def parse_recurrence(lines, zone):
    """Parse Event.recurrence lines; raises RecurrenceError when the simulator
    cannot honour them."""
    if not isinstance(lines, list):
        raise RecurrenceError("not a list")
    rule, exdates, rdates = None, [], []
    for line in lines:
        if not isinstance(line, str) or ":" not in line:
            raise RecurrenceError(str(line))
        name, value = line.split(":", 1)
        head, *raw_params = name.split(";")
        params = {}
        for p in raw_params:
            k, _, v = p.partition("=")
            params[k.strip().upper()] = v.strip()
        head = head.strip().upper()
        if head == "RRULE":
            if rule is not None:
                raise RecurrenceError("more than one RRULE")
            rule = parse_rrule(value, zone)
        elif head in ("EXDATE", "RDATE"):
            vals = [_parse_ical_time(v, params, zone)
                    for v in value.split(",") if v.strip()]
            (exdates if head == "EXDATE" else rdates).extend(vals)
        else:
            raise RecurrenceError(head)
    return rule, exdates, rdates


def parse_rrule(value, zone):
    parts = {}
    for item in value.split(";"):
        if not item:
            continue
        k, sep, v = item.partition("=")
        k = k.strip().upper()
        if not sep or k not in RRULE_KEYS or k in parts:
            raise RecurrenceError(item)
        parts[k] = v.strip().upper()
    freq = parts.get("FREQ")
    if freq not in ("DAILY", "WEEKLY"):
        raise RecurrenceError("FREQ")
    rule = {"freq": freq, "interval": 1, "count": None, "until": None,
            "byday": None, "wkst": 0}
    try:
        if "INTERVAL" in parts:
            rule["interval"] = int(parts["INTERVAL"])
        if "COUNT" in parts:
            rule["count"] = int(parts["COUNT"])
    except ValueError:
        raise RecurrenceError("number")
    if rule["interval"] < 1 or (rule["count"] is not None
                                and rule["count"] < 1):
        raise RecurrenceError("number")
    if "UNTIL" in parts:
        if rule["count"] is not None:
            raise RecurrenceError("COUNT and UNTIL")
        rule["until"] = _parse_ical_time(parts["UNTIL"], {}, zone)
    if "BYDAY" in parts:
        days = []
        for d in parts["BYDAY"].split(","):
            if d not in WEEKDAYS:
                raise RecurrenceError(d)
            days.append(WEEKDAYS[d])
        rule["byday"] = sorted(set(days))
    if "WKST" in parts:
        if parts["WKST"] not in WEEKDAYS:
            raise RecurrenceError("WKST")
        rule["wkst"] = WEEKDAYS[parts["WKST"]]
    return rule


def _rule_dates(rule, start_day):
    """Candidate local dates of a rule, ascending, from start_day (which is
    always the first occurrence, RFC 5545 §3.8.5.3)."""
    yield start_day
    interval = rule["interval"]
    if rule["freq"] == "DAILY":
        k = 1
        while True:
            day = start_day + dt.timedelta(days=k * interval)
            if rule["byday"] is None or day.weekday() in rule["byday"]:
                yield day
            k += 1
    wkst = rule["wkst"]
    days = rule["byday"] or [start_day.weekday()]
    offsets = sorted((d - wkst) % 7 for d in days)
    week0 = start_day - dt.timedelta(days=(start_day.weekday() - wkst) % 7)
    w = 0
    while True:
        week = week0 + dt.timedelta(days=7 * interval * w)
        for off in offsets:
            day = week + dt.timedelta(days=off)
            if day > start_day:
                yield day
        w += 1


def expand_event(data, cal_tz, win_start=None, win_end=None):
    """Instances of a recurring event overlapping (win_start, win_end).

    Returns a list of dicts {orig, start, end, all_day}, ascending, where for
    timed events the values are aware datetimes in the event's zone and for
    all-day events dates.  Expansion happens in the master's timeZone, so
    instances keep their wall time across DST changes.  Without win_end an
    endless rule stops at max(now, first start) + 2 years; at most
    MAX_INSTANCES instances are returned."""
    start_edt, end_edt = data.get("start"), data.get("end")
    if not isinstance(start_edt, dict) or not isinstance(end_edt, dict):
        return []
    all_day = start_edt.get("date") is not None
    zone = cal_tz if all_day else event_zone(start_edt, cal_tz)
    try:
        rule, exdates, rdates = parse_recurrence(data.get("recurrence") or [],
                                                 zone)
    except RecurrenceError:
        rule, exdates, rdates = None, [], []
    if all_day:
        d0 = parse_date(start_edt.get("date"))
        d1 = parse_date(end_edt.get("date"))
        if d0 is None or d1 is None:
            return []
        first_local = dt.datetime.combine(d0, dt.time())
        wall_len = dt.timedelta(days=(d1 - d0).days)
    else:
        s = edt_instant(start_edt, cal_tz)
        e = edt_instant(end_edt, cal_tz)
        if s is None or e is None:
            return []
        first_local = s.astimezone(zone).replace(tzinfo=None)
        wall_len = e.astimezone(zone).replace(tzinfo=None) - first_local
    first_abs = localize(first_local, zone)
    if win_end is not None:
        limit = win_end
    else:
        limit = max(dt.datetime.now(UTC), first_abs) + HORIZON
    ex_dates = {v for k, v in exdates if k == "date"}
    ex_instants = {v for k, v in exdates if k == "dt"}
    out = []

    def consider(local):
        """Append the instance starting at local wall time if it is kept."""
        if local.date() in ex_dates:
            return
        start_abs = localize(local, zone)
        if all_day:
            if any(x.astimezone(zone).date() == local.date()
                   for x in ex_instants):
                return
        elif start_abs in ex_instants:
            return
        end_local = local + wall_len
        end_abs = localize(end_local, zone)
        if win_start is not None and not end_abs > win_start:
            return
        if win_end is not None and not start_abs < win_end:
            return
        if all_day:
            out.append({"orig": local.date(), "start": local.date(),
                        "end": end_local.date(), "all_day": True})
        else:
            out.append({"orig": start_abs, "start": start_abs,
                        "end": end_abs, "all_day": False})

    seen = set()
    if rule is None:
        seen.add(first_local)
        consider(first_local)
    else:
        until = rule["until"]
        count = 0
        steps = 0
        for day in _rule_dates(rule, first_local.date()):
            steps += 1
            local = dt.datetime.combine(day, first_local.time())
            if until is not None:
                if until[0] == "date":
                    if day > until[1]:
                        break
                elif localize(local, zone) > until[1]:
                    break
            if localize(local, zone) >= limit:
                break
            count += 1
            seen.add(local)
            consider(local)
            if rule["count"] is not None and count >= rule["count"]:
                break
            if len(out) >= MAX_INSTANCES or steps > 200000:
                break
    for kind, val in rdates:
        if kind == "date":
            local = dt.datetime.combine(val, first_local.time())
        else:
            local = val.astimezone(zone).replace(tzinfo=None)
        if local not in seen and localize(local, zone) < limit:
            seen.add(local)
            consider(local)
    out.sort(key=lambda i: (i["start"]))
    return out[:MAX_INSTANCES]


def instance_suffix(inst):
    if inst["all_day"]:
        return inst["orig"].strftime("%Y%m%d")
    return inst["orig"].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_instance(master, inst, cal_tz):
    """Render one instance of a recurring master as its own Event."""
    data = copy.deepcopy(master)
    data.pop("recurrence", None)
    data["id"] = "%s_%s" % (master["id"], instance_suffix(inst))
    data["recurringEventId"] = master["id"]
    start_edt = master.get("start") or {}
    tzname = start_edt.get("timeZone")
    if inst["all_day"]:
        data["start"] = {"date": inst["start"].isoformat()}
        data["end"] = {"date": inst["end"].isoformat()}
        data["originalStartTime"] = {"date": inst["orig"].isoformat()}
    else:
        zone = event_zone(start_edt, cal_tz)
        end_tz = (master.get("end") or {}).get("timeZone")
        data["start"] = {"dateTime": fmt_offset(inst["start"], zone)}
        data["end"] = {"dateTime": fmt_offset(inst["end"], zone)}
        data["originalStartTime"] = {"dateTime": fmt_offset(inst["orig"],
                                                            zone)}
        if tzname:
            data["start"]["timeZone"] = tzname
            data["originalStartTime"]["timeZone"] = tzname
        if end_tz:
            data["end"]["timeZone"] = end_tz
    return data


# ---------------------------------------------------------------------------
# Discovery document: schemas, methods, parameters, partial responses
# ---------------------------------------------------------------------------

class Discovery:
    """The Calendar v3 discovery document and what is derived from it."""

    def __init__(self, path):
        with open(path, "r", encoding="utf-8") as fh:
            self.doc = json.load(fh)
        self.schemas = self.doc["schemas"]
        self.global_params = self.doc.get("parameters", {})
        self.methods = []   # (id, httpMethod, [segments], desc)
        for rname, res in self.doc.get("resources", {}).items():
            for mname, m in res.get("methods", {}).items():
                segs = m["path"].split("/")
                self.methods.append(("%s.%s" % (rname, mname),
                                     m["httpMethod"], segs, m))
        # Templates with more literal segments win ("events/import" before
        # "events/{eventId}").
        self.methods.sort(key=lambda t: -sum(1 for s in t[2]
                                             if not s.startswith("{")))

    def route(self, method, raw_segments):
        """Find the discovery method for a path below /calendar/v3/.
        Returns (method_id, desc, path_params) or (None, None, allowed)."""
        path_matched = False
        for mid, http_method, segs, desc in self.methods:
            if len(segs) != len(raw_segments):
                continue
            params = {}
            ok = True
            for tmpl, raw in zip(segs, raw_segments):
                if tmpl.startswith("{"):
                    if raw == "":
                        ok = False
                        break
                    params[tmpl[1:-1]] = urllib.parse.unquote(raw)
                elif tmpl != raw:
                    ok = False
                    break
            if not ok:
                continue
            path_matched = True
            if http_method == method:
                return mid, desc, params
        return None, None, path_matched

    # -- query parameters ------------------------------------------------

    def check_params(self, desc, query):
        """Validate the query against the method's and the global parameters
        (types, enums, minimum/maximum).  Unknown parameters are ignored, as
        Google does.  Returns {name: value or [values] when repeated}."""
        specs = dict(self.global_params)
        specs.update({k: v for k, v in desc.get("parameters", {}).items()
                      if v.get("location") == "query"})
        out = {}
        for name, values in query.items():
            spec = specs.get(name)
            if spec is None:
                continue
            if not spec.get("repeated"):
                values = values[:1]
            for v in values:
                self._check_value(name, v, spec)
            out[name] = list(values) if spec.get("repeated") else values[0]
        return out

    @staticmethod
    def _check_value(name, value, spec):
        kind = spec.get("type")
        if kind == "boolean":
            if value.lower() not in ("true", "false"):
                raise bad_param(name, value)
        elif kind == "integer":
            if not re.match(r"^-?\d{1,10}$", value):
                raise bad_param(name, value)
            n = int(value)
            if "minimum" in spec and n < int(spec["minimum"]):
                raise bad_param(name, value)
            if "maximum" in spec and n > int(spec["maximum"]):
                raise bad_param(name, value)
        if "enum" in spec and value not in spec["enum"]:
            raise bad_param(name, value)
        if name == "quotaUser" and len(value) > 40:
            raise bad_param(name, value)

    # -- request bodies ---------------------------------------------------

    def validate(self, value, schema, path):
        """Validate a JSON value against a discovery schema, recursively.
        Raises a Google 400 naming the offending field.  JSON null is
        accepted anywhere (patch semantics: clear the field)."""
        if value is None:
            return
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "any" or kind is None and "properties" not in schema:
            return
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                raise self._type_error(path, "object", value)
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, sub in value.items():
                where = "%s.%s" % (path, key) if path else key
                if key in props:
                    self.validate(sub, props[key], where)
                elif extra is not None:
                    self.validate(sub, extra, where)
                else:
                    raise gerror(
                        400, "invalid",
                        "Invalid field: %s. Unknown name \"%s\" at "
                        "'resource%s': Cannot find field."
                        % (where, key, "." + path if path else ""))
        elif kind == "array":
            if not isinstance(value, list):
                raise self._type_error(path, "array", value)
            item = schema.get("items", {})
            for i, sub in enumerate(value):
                self.validate(sub, item, "%s[%d]" % (path, i))
        elif kind == "string":
            fmt = schema.get("format")
            if fmt in ("int64", "uint64"):
                if isinstance(value, bool) or not (
                        isinstance(value, int) or isinstance(value, str)
                        and re.match(r"^-?\d+$", value)):
                    raise self._type_error(path, "string (%s)" % fmt, value)
            elif not isinstance(value, str):
                raise self._type_error(path, "string", value)
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                if not (isinstance(value, float) and value.is_integer()):
                    raise self._type_error(path, "integer", value)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._type_error(path, "number", value)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise self._type_error(path, "boolean", value)

    @staticmethod
    def _type_error(path, expected, value):
        shown = json.dumps(value, ensure_ascii=False)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return gerror(400, "invalid",
                      "Invalid value at 'resource.%s' (%s), %s: field %s "
                      "must be %s." % (path, expected.upper(), shown, path,
                                       expected))

    # -- partial responses (fields=) --------------------------------------

    def parse_fields(self, text, schema_name):
        """Parse a `fields` selector into a tree {name: subtree|None} and
        check the names against the response schema."""
        pos = 0

        def fail():
            raise bad_param("fields", text,
                            "Invalid field selection %s" % text)

        def parse_list(end_char):
            nonlocal pos
            tree = {}
            while True:
                path = []
                while True:
                    m = re.compile(r"[A-Za-z0-9_*.@-]+").match(text, pos)
                    if not m:
                        fail()
                    path.append(m.group(0))
                    pos = m.end()
                    if pos < len(text) and text[pos] == "/":
                        pos += 1
                        continue
                    break
                sub = None
                if pos < len(text) and text[pos] == "(":
                    pos += 1
                    sub = parse_list(")")
                    if pos >= len(text) or text[pos] != ")":
                        fail()
                    pos += 1
                node = tree
                for name in path[:-1]:
                    if name in node and node[name] is None:
                        node = None
                        break
                    node = node.setdefault(name, {})
                if node is not None:
                    last = path[-1]
                    if sub is None or node.get(last, 0) is None:
                        node[last] = None
                    else:
                        existing = node.get(last) or {}
                        existing.update(sub)
                        node[last] = existing
                if pos < len(text) and text[pos] == ",":
                    pos += 1
                    continue
                if end_char is None and pos != len(text):
                    fail()
                return tree

        text = text.replace(" ", "")
        if not text:
            return None
        tree = parse_list(None)
        self._check_tree(tree, {"$ref": schema_name}, text)
        return tree

    def _check_tree(self, tree, schema, text):
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        if schema.get("type") == "array":
            return self._check_tree(tree, schema.get("items", {}), text)
        props = schema.get("properties")
        if props is None:
            return
        for name, sub in tree.items():
            if name == "*":
                continue
            if name not in props:
                if schema.get("additionalProperties") is not None:
                    continue
                raise bad_param("fields", text,
                                "Invalid field selection %s" % name)
            if sub:
                self._check_tree(sub, props[name], text)

    @staticmethod
    def apply_fields(value, tree):
        if tree is None:
            return value
        if isinstance(value, list):
            return [Discovery.apply_fields(v, tree) for v in value]
        if isinstance(value, dict):
            if "*" in tree:
                return value
            return {k: Discovery.apply_fields(value[k], sub)
                    for k, sub in tree.items() if k in value}
        return value


# ---------------------------------------------------------------------------
# State: configuration, accounts, tokens, calendars, payments, faults, log
# ---------------------------------------------------------------------------

def default_google_config():
    return {
        "client_id": "sim-client-id.apps.googleusercontent.com",
        "client_secret": "sim-client-secret",
        "redirect_uris": [],
        "allow_loopback_redirects": True,
        "api_keys": ["sim-api-key"],
        "access_token_ttl_s": 3600,
        "code_ttl_s": 600,
        "conference_pending_gets": 0,
        "conference_failure": False,
        # The OAuth client's Cloud project, and whether the Calendar API is
        # off in it: true (every Calendar call), "oauth" (calls with a
        # token) or "key" (calls with an API key).
        "project_number": "612345678901",
        "calendar_api_disabled": False,
        # Seconds added to the Date header of Google's answers.
        "clock_skew_s": 0,
        "accounts": [{"email": "admin@school.test",
                      "sub": "100000000000000000001",
                      "email_verified": True,
                      "name": "School Admin",
                      "given_name": "School", "family_name": "Admin",
                      "picture": "https://lh3.googleusercontent.com/a/sim"}],
        # email null: the login_hint's account if known, else the first one.
        "consent": {"email": None, "deny": False, "refresh_token": True,
                    "scopes": None},
    }


def default_push_config():
    return {
        # null, or the reason events.watch is refused with (below), or
        # {"status", "reason", "message"} of one's own.
        "refuse_watch": None,
        "max_ttl_s": 604800,        # Google's default lifetime, 7 days
        "expiration_number": False,  # expiration as a JSON number
        "allow_http_loopback": True,  # http:// to a loopback address
        "delivery_timeout_s": 5.0,
    }


def default_mp_config():
    return {"access_token": "sim-mp-access-token",
            "webhook_secret": "sim-mp-webhook-secret"}


class Calendar:
    """One calendar: settings, events, and its change counter."""

    def __init__(self, cal_id, public=True, time_zone=DEFAULT_TIME_ZONE,
                 summary=None):
        self.id = cal_id
        self.public = public
        self.time_zone = time_zone
        self.summary = summary or cal_id
        self.counter = 1
        self.created = time.time()
        self.events = {}        # id -> StoredEvent, insertion ordered

    @property
    def tz(self):
        return get_zone(self.time_zone) or get_zone(DEFAULT_TIME_ZONE)

    def describe(self):
        return {"id": self.id, "public": self.public,
                "timeZone": self.time_zone, "summary": self.summary,
                "changeCounter": self.counter, "events": len(self.events)}


class StoredEvent:
    """An event as stored: its public JSON plus simulator bookkeeping."""

    def __init__(self, data, seq):
        self.data = data
        self.seq = seq            # calendar change counter at last change
        self.conf_left = None     # gets left while the conference is pending


class State:
    """Everything the simulator remembers.  One lock guards it all."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.google = default_google_config()
            self.mp = default_mp_config()
            self.calendars = {}
            self.add_calendar(DEFAULT_CALENDAR_ID)
            self.codes = {}
            self.access_tokens = {}
            self.refresh_tokens = {}
            self.consents = {}      # (client_id, email) -> {"scopes": [...]}
            self.sync_tokens = {}
            self.sync_epoch = 0
            self.page_tokens = {}
            self.payments = {}
            self.payment_raw = {}   # id -> the exact bytes served instead
            self.next_payment_id = 1300000001
            self.preferences = []   # checkout preferences, oldest first
            self.faults = []
            self.next_fault_id = 1
            self.rate_limit = None
            self.rate_windows = {}
            self.requests = []
            self.next_seq = 1
            for ch in getattr(self, "channels", {}).values():
                push_close(ch)
            self.push = default_push_config()
            self.channels = {}          # channel id -> channel (push)
            self.notifications = []     # push notifications, as delivered
            self.next_notification = 1

    def add_calendar(self, cal_id, public=True, time_zone=DEFAULT_TIME_ZONE):
        cal = Calendar(cal_id, public, time_zone)
        self.calendars[cal_id] = cal
        return cal

    # -- accounts ---------------------------------------------------------

    def account(self, email_or_sub):
        if not isinstance(email_or_sub, str):
            return None
        key = email_or_sub.strip().lower()
        for acc in self.google["accounts"]:
            if acc.get("email", "").lower() == key or acc.get("sub") == key:
                return acc
        return None

    def ensure_account(self, email):
        acc = self.account(email)
        if acc is None:
            acc = complete_account({"email": email})
            self.google["accounts"].append(acc)
        return acc

    # -- request log ------------------------------------------------------

    def record(self, entry):
        with self.lock:
            entry["seq"] = self.next_seq
            self.next_seq += 1
            self.requests.append(entry)
            if len(self.requests) > 20000:
                del self.requests[:1000]
            return entry

    # -- faults -------------------------------------------------------------

    def take_fault(self, method, path):
        """The first live rule matching this request (its count taken), or
        None."""
        with self.lock:
            for rule in self.faults:
                if rule["remaining"] == 0:
                    continue
                if rule["method"] and rule["method"].upper() != method:
                    continue
                if rule["path"] and not rule["_re"].search(path):
                    continue
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                rule["applied"] += 1
                return dict(rule)
        return None


def complete_account(spec):
    email = spec["email"]
    digest = int(hashlib.sha256(email.lower().encode()).hexdigest(), 16)
    local = email.split("@")[0]
    acc = {"email": email,
           "sub": str(100000000000000000000 + digest % 10 ** 20),
           "email_verified": True,
           "name": local.replace(".", " ").title(),
           "picture": "https://lh3.googleusercontent.com/a/sim"}
    acc.update({k: v for k, v in spec.items() if v is not None})
    acc["sub"] = str(acc["sub"])
    parts = acc["name"].split(" ", 1)
    acc.setdefault("given_name", parts[0])
    acc.setdefault("family_name", parts[1] if len(parts) > 1 else "")
    return acc


STATE = State()
DISCOVERY = None     # set in main() / load_discovery()


# ---------------------------------------------------------------------------
# Request object
# ---------------------------------------------------------------------------

class Request:
    """What handlers see: method, paths, query, headers, body."""

    def __init__(self, method, target, headers, body, client):
        self.method = method
        self.raw_target = target
        parts = urllib.parse.urlsplit(target)
        self.raw_path = parts.path or "/"
        self.query_string = parts.query
        self.query = urllib.parse.parse_qs(parts.query,
                                           keep_blank_values=True)
        self.path = urllib.parse.unquote(self.raw_path)
        self.headers = headers          # list of (name, value)
        self.body = body
        self.client = client
        self._json = None
        self._json_done = False

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def headers_dict(self):
        out = {}
        for k, v in self.headers:
            k = k.lower()
            out[k] = out[k] + ", " + v if k in out else v
        return out

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """Parsed JSON body, or raises ValueError."""
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.text()) \
                    if self.body.strip() else None
            except ValueError as exc:
                self._json = exc
        if isinstance(self._json, ValueError):
            raise self._json
        return self._json

    def json_or_none(self):
        try:
            return self.json()
        except ValueError:
            return None

    def form(self):
        """Form fields (urlencoded, or a JSON object) merged over none."""
        ctype = (self.header("content-type") or "").lower()
        if "json" in ctype:
            try:
                value = self.json()
            except ValueError:
                return {}
            if isinstance(value, dict):
                return {k: [str(v)] for k, v in value.items()}
            return {}
        return urllib.parse.parse_qs(self.text(), keep_blank_values=True)


# ---------------------------------------------------------------------------
# Google OAuth 2.0: authorize, token, revoke, userinfo (protocols.md §6)
# ---------------------------------------------------------------------------

EMAIL_SCOPES = ("email", "https://www.googleapis.com/auth/userinfo.email")
PROFILE_SCOPES = ("profile",
                  "https://www.googleapis.com/auth/userinfo.profile")
LOOPBACK_REDIRECT = re.compile(
    r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?"
    r"/oauth/google/callback$")


def redirect_allowed(uri):
    g = STATE.google
    if uri in (g.get("redirect_uris") or []):
        return True
    return bool(g.get("allow_loopback_redirects", True)
                and LOOPBACK_REDIRECT.match(uri))


def oauth_json(status, value, headers=None):
    hdrs = [("Cache-Control", "no-cache, no-store, max-age=0, "
             "must-revalidate"), ("Pragma", "no-cache")]
    return json_response(status, value, PLAIN_JSON, hdrs + list(headers or []))


def oauth_error(status, error, description):
    return HttpError(oauth_json(status, {"error": error,
                                         "error_description": description}))


def auth_error_page(error, detail):
    return HttpError(html_page(
        400, "Error 400: %s" % error,
        "Access blocked: this app's request is invalid. %s (%s)"
        % (detail, error)))


def handle_authorize(req):
    """GET /o/oauth2/v2/auth: consent is simulated, the answer is a 302."""
    params = dict(req.query)
    if req.method == "POST":
        params.update(urllib.parse.parse_qs(req.text(),
                                            keep_blank_values=True))
    p = {k: v[0] for k, v in params.items()}
    with STATE.lock:
        g = STATE.google
        client_id = p.get("client_id")
        if not client_id:
            raise auth_error_page("invalid_request",
                                  "Missing required parameter: client_id")
        if client_id != g["client_id"]:
            raise auth_error_page("invalid_client",
                                  "The OAuth client was not found.")
        redirect_uri = p.get("redirect_uri")
        if not redirect_uri:
            raise auth_error_page("invalid_request",
                                  "Missing required parameter: redirect_uri")
        if not redirect_allowed(redirect_uri):
            raise auth_error_page(
                "redirect_uri_mismatch",
                "You can't sign in to this app because it doesn't comply "
                "with Google's OAuth 2.0 policy. redirect_uri=%s"
                % redirect_uri)
        if not p.get("response_type"):
            raise auth_error_page("invalid_request",
                                  "Missing required parameter: response_type")
        if p["response_type"] != "code":
            raise auth_error_page("unsupported_response_type",
                                  "Invalid response_type: %s"
                                  % p["response_type"])
        scopes = []
        for s in (p.get("scope") or "").split():
            if s not in scopes:
                scopes.append(s)
        if not scopes:
            raise auth_error_page("invalid_request",
                                  "Missing required parameter: scope")
        challenge = p.get("code_challenge")
        method = p.get("code_challenge_method")
        if challenge is not None:
            method = method or "plain"
            if method not in ("S256", "plain"):
                raise auth_error_page("invalid_request",
                                      "Invalid code_challenge_method: %s"
                                      % method)
            if not re.match(r"^[A-Za-z0-9._~-]{43,128}$", challenge):
                raise auth_error_page("invalid_request",
                                      "Invalid code_challenge.")
        elif method is not None:
            raise auth_error_page("invalid_request",
                                  "code_challenge_method without "
                                  "code_challenge")
        access_type = p.get("access_type", "online")
        if access_type not in ("online", "offline"):
            raise auth_error_page("invalid_request",
                                  "Invalid access_type: %s" % access_type)
        prompts = (p.get("prompt") or "").split()
        consent = g["consent"]
        state = p.get("state")

        def back(values):
            if state is not None:
                values.append(("state", state))
            sep = "&" if "?" in redirect_uri else "?"
            loc = redirect_uri + sep + urllib.parse.urlencode(values)
            return Response(302, "", "text/html; charset=utf-8",
                            [("Location", loc)])

        if consent.get("deny"):
            return back([("error", "access_denied")])
        # Which account signs in.
        if consent.get("email"):
            acc = STATE.ensure_account(consent["email"])
        else:
            acc = STATE.account(p.get("login_hint")) \
                or STATE.google["accounts"][0]
        key = (client_id, acc["email"].lower())
        previous = STATE.consents.get(key)
        if "none" in prompts and previous is None:
            return back([("error", "consent_required")])
        granted = scopes
        if consent.get("scopes") is not None:
            allowed = consent["scopes"]
            if isinstance(allowed, str):
                allowed = allowed.split()
            granted = [s for s in scopes if s in allowed]
        if p.get("include_granted_scopes") == "true" and previous:
            granted = granted + [s for s in previous["scopes"]
                                 if s not in granted]
        refresh = (access_type == "offline"
                   and consent.get("refresh_token", True) is not False
                   and ("consent" in prompts or previous is None
                        or not previous.get("offline")))
        STATE.consents[key] = {
            "scopes": granted,
            "offline": bool((previous or {}).get("offline") or refresh)}
        code = "4/0A" + rand_token(40)
        STATE.codes[code] = {
            "client_id": client_id, "redirect_uri": redirect_uri,
            "scopes": granted, "challenge": challenge,
            "method": method, "email": acc["email"], "refresh": refresh,
            "nonce": p.get("nonce"),
            "expires_at": time.time() + float(g.get("code_ttl_s", 600)),
            "used": False}
        return back([("code", code), ("scope", " ".join(granted)),
                     ("authuser", "0"), ("prompt", "consent")])


def client_credentials(req, form):
    """client_id/secret from HTTP Basic (RFC 6749 §2.3.1) or the form."""
    cid = first(form, "client_id")
    secret = first(form, "client_secret")
    auth = req.header("authorization") or ""
    if auth[:6].lower() == "basic ":
        try:
            raw = base64.b64decode(auth[6:].strip(), validate=True).decode()
            bid, _, bsecret = raw.partition(":")
            bid = urllib.parse.unquote_plus(bid)
            bsecret = urllib.parse.unquote_plus(bsecret)
        except Exception:
            raise oauth_error(401, "invalid_client", "Unauthorized")
        if cid is not None and cid != bid:
            raise oauth_error(400, "invalid_request",
                              "client_id in the body and in the "
                              "Authorization header differ.")
        cid, secret = bid, bsecret
    return cid, secret


def check_client(req, form):
    cid, secret = client_credentials(req, form)
    g = STATE.google
    if not cid:
        raise oauth_error(400, "invalid_request",
                          "Could not determine client ID from request.")
    if cid != g["client_id"]:
        raise oauth_error(401, "invalid_client",
                          "The OAuth client was not found.")
    if secret is None or not hmac.compare_digest(
            secret.encode(), g["client_secret"].encode()):
        raise oauth_error(401, "invalid_client", "Unauthorized")
    return cid


def make_id_token(client_id, acc, scopes, access_token, nonce=None):
    now = int(time.time())
    header = {"alg": "RS256", "kid": "sim", "typ": "JWT"}
    payload = {"iss": "https://accounts.google.com", "azp": client_id,
               "aud": client_id, "sub": acc["sub"], "iat": now,
               "exp": now + 3600}
    if any(s in scopes for s in EMAIL_SCOPES):
        payload["email"] = acc["email"]
        payload["email_verified"] = bool(acc.get("email_verified", True))
    if access_token:
        digest = hashlib.sha256(access_token.encode()).digest()
        payload["at_hash"] = b64url(digest[:16])
    if any(s in scopes for s in PROFILE_SCOPES):
        for k in ("name", "picture", "given_name", "family_name"):
            if acc.get(k):
                payload[k] = acc[k]
    if nonce:
        payload["nonce"] = nonce
    enc = lambda obj: b64url(json.dumps(obj, separators=(",", ":")).encode())
    return "%s.%s.%s" % (enc(header), enc(payload),
                         b64url(secrets.token_bytes(256)))


def issue_access_token(client_id, email, scopes, refresh_token=None):
    token = "ya29.sim-" + rand_token(48)
    ttl = int(STATE.google.get("access_token_ttl_s", 3600))
    STATE.access_tokens[token] = {
        "client_id": client_id, "email": email, "scopes": list(scopes),
        "expires_at": time.time() + ttl, "revoked": False,
        "refresh_token": refresh_token, "issued_at": time.time()}
    return token, ttl


def handle_token(req):
    """POST /token: authorization_code and refresh_token grants."""
    if req.method != "POST":
        raise oauth_error(405, "invalid_request", "Method not allowed.")
    form = req.form()
    with STATE.lock:
        grant = first(form, "grant_type")
        if not grant:
            raise oauth_error(400, "invalid_request",
                              "Missing required parameter: grant_type")
        if grant not in ("authorization_code", "refresh_token"):
            raise oauth_error(400, "unsupported_grant_type",
                              "Invalid grant_type: %s" % grant)
        cid = check_client(req, form)
        if grant == "authorization_code":
            return token_from_code(form, cid)
        return token_from_refresh(form, cid)


def token_from_code(form, cid):
    code = first(form, "code")
    if not code:
        raise oauth_error(400, "invalid_request",
                          "Missing required parameter: code")
    rec = STATE.codes.get(code)
    if rec is None:
        raise oauth_error(400, "invalid_grant", "Malformed auth code.")
    if rec["used"] or rec["expires_at"] < time.time() \
            or rec["client_id"] != cid:
        raise oauth_error(400, "invalid_grant", "Bad Request")
    redirect_uri = first(form, "redirect_uri")
    if not redirect_uri:
        raise oauth_error(400, "invalid_request",
                          "Missing required parameter: redirect_uri")
    if redirect_uri != rec["redirect_uri"]:
        raise oauth_error(400, "redirect_uri_mismatch", "Bad Request")
    verifier = first(form, "code_verifier")
    if rec["challenge"] is not None:
        if not verifier:
            raise oauth_error(400, "invalid_grant", "Missing code verifier.")
        if rec["method"] == "S256":
            computed = b64url(hashlib.sha256(verifier.encode()).digest())
        else:
            computed = verifier
        if not hmac.compare_digest(computed.encode(),
                                   rec["challenge"].encode()):
            raise oauth_error(400, "invalid_grant", "Invalid code verifier.")
    rec["used"] = True
    acc = STATE.ensure_account(rec["email"])
    refresh = None
    if rec["refresh"]:
        refresh = "1//sim-" + rand_token(48)
        STATE.refresh_tokens[refresh] = {
            "client_id": cid, "email": acc["email"],
            "scopes": rec["scopes"], "revoked": False,
            "issued_at": time.time()}
    token, ttl = issue_access_token(cid, acc["email"], rec["scopes"], refresh)
    body = {"access_token": token, "expires_in": ttl,
            "scope": " ".join(rec["scopes"]), "token_type": "Bearer"}
    if "openid" in rec["scopes"]:
        body["id_token"] = make_id_token(cid, acc, rec["scopes"], token,
                                         rec.get("nonce"))
    if refresh:
        body["refresh_token"] = refresh
    return oauth_json(200, body)


def token_from_refresh(form, cid):
    rt = first(form, "refresh_token")
    if not rt:
        raise oauth_error(400, "invalid_request",
                          "Missing required parameter: refresh_token")
    rec = STATE.refresh_tokens.get(rt)
    if rec is None or rec["revoked"] or rec["client_id"] != cid:
        raise oauth_error(400, "invalid_grant",
                          "Token has been expired or revoked.")
    acc = STATE.ensure_account(rec["email"])
    token, ttl = issue_access_token(cid, acc["email"], rec["scopes"], rt)
    body = {"access_token": token, "expires_in": ttl,
            "scope": " ".join(rec["scopes"]), "token_type": "Bearer"}
    if "openid" in rec["scopes"]:
        body["id_token"] = make_id_token(cid, acc, rec["scopes"], token)
    return oauth_json(200, body)


def revoke_grant(client_id, email, access_too=True):
    """Revoke every token of a client/account grant."""
    email = email.lower()
    for rec in STATE.refresh_tokens.values():
        if rec["client_id"] == client_id and rec["email"].lower() == email:
            rec["revoked"] = True
    if access_too:
        for rec in STATE.access_tokens.values():
            if rec["client_id"] == client_id and \
                    rec["email"].lower() == email:
                rec["revoked"] = True
    STATE.consents.pop((client_id, email), None)


def handle_revoke(req):
    """POST /revoke?token=...: revoking either token revokes the grant."""
    form = dict(req.query)
    if req.method == "POST":
        form.update(req.form())
    token = first(form, "token")
    with STATE.lock:
        if not token:
            raise oauth_error(400, "invalid_request",
                              "Missing required parameter: token")
        rec = STATE.access_tokens.get(token) or \
            STATE.refresh_tokens.get(token)
        if rec is None or rec["revoked"]:
            raise oauth_error(400, "invalid_token",
                              "Token expired or revoked")
        if token in STATE.access_tokens and \
                rec["expires_at"] < time.time():
            raise oauth_error(400, "invalid_token",
                              "Token expired or revoked")
        revoke_grant(rec["client_id"], rec["email"])
    return oauth_json(200, {})


def bearer_token(req):
    auth = req.header("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return first(req.query, "access_token") or first(req.query, "oauth_token")


def live_access_token(token):
    """The record of a live access token, or None (unknown, expired,
    revoked).  Call with the lock held."""
    rec = STATE.access_tokens.get(token) if token else None
    if rec is None or rec["revoked"] or rec["expires_at"] <= time.time():
        return None
    return rec


def handle_userinfo(req):
    """GET /v1/userinfo (OIDC), also /oauth2/v3/userinfo and
    /oauth2/v2/userinfo (the v2 field names)."""
    token = bearer_token(req)
    with STATE.lock:
        rec = live_access_token(token)
        if rec is None:
            hdr = 'Bearer realm="https://accounts.google.com/"'
            if token:
                hdr += ', error="invalid_token"'
            raise HttpError(oauth_json(
                401, {"error": "invalid_request",
                      "error_description": "Invalid Credentials"},
                [("WWW-Authenticate", hdr)]))
        acc = STATE.ensure_account(rec["email"])
        scopes = rec["scopes"]
        if req.path.startswith("/oauth2/v2/"):
            out = {"id": acc["sub"]}
            if any(s in scopes for s in EMAIL_SCOPES):
                out["email"] = acc["email"]
                out["verified_email"] = bool(acc.get("email_verified", True))
        else:
            out = {"sub": acc["sub"]}
            if any(s in scopes for s in EMAIL_SCOPES):
                out["email"] = acc["email"]
                out["email_verified"] = bool(acc.get("email_verified", True))
        if any(s in scopes for s in PROFILE_SCOPES):
            for k in ("name", "given_name", "family_name", "picture"):
                if acc.get(k) is not None:
                    out[k] = acc[k]
        return oauth_json(200, out)


def handle_tokeninfo(req):
    """GET/POST /tokeninfo?access_token=... (oauth2.googleapis.com)."""
    form = dict(req.query)
    if req.method == "POST":
        form.update(req.form())
    token = first(form, "access_token")
    with STATE.lock:
        rec = live_access_token(token)
        if rec is None:
            raise oauth_error(400, "invalid_token", "Invalid Value")
        acc = STATE.ensure_account(rec["email"])
        out = {"azp": rec["client_id"], "aud": rec["client_id"],
               "sub": acc["sub"], "scope": " ".join(rec["scopes"]),
               "exp": str(int(rec["expires_at"])),
               "expires_in": str(max(0, int(rec["expires_at"] - time.time()))),
               "access_type": "offline" if rec["refresh_token"] else "online"}
        if any(s in rec["scopes"] for s in EMAIL_SCOPES):
            out["email"] = acc["email"]
            out["email_verified"] = "true" if acc.get(
                "email_verified", True) else "false"
        return oauth_json(200, out)


# ---------------------------------------------------------------------------
# Calendar v3: authentication, rate limits, dispatch (protocols.md §1-§5, §7)
# ---------------------------------------------------------------------------

READ_ONLY_EVENT_FIELDS = ("kind", "etag", "htmlLink", "created", "updated",
                          "hangoutLink", "creator", "organizer",
                          "recurringEventId")
SYNC_FORBIDDEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                  "sharedExtendedProperty", "timeMin", "timeMax",
                  "updatedMin")
EVENT_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
_last_etag = [0]


def new_etag():
    now = int(time.time() * 1000000)
    _last_etag[0] = max(now, _last_etag[0] + 1)
    return '"%d"' % _last_etag[0]


def check_rate(cred):
    """Per-credential requests-per-second limit (POST /_sim/rate_limit)."""
    with STATE.lock:
        rl = STATE.rate_limit
        if not rl:
            return
        win = STATE.rate_windows.setdefault(cred, deque())
        now = time.monotonic()
        while win and now - win[0] >= 1.0:
            win.popleft()
        if len(win) < rl["per_second"]:
            win.append(now)
            return
        status = rl.get("status", 403)
        reason = rl.get("reason") or "rateLimitExceeded"
        message = ("User Rate Limit Exceeded"
                   if reason == "userRateLimitExceeded"
                   else "Rate Limit Exceeded")
        headers = []
        if rl.get("retry_after") is not None:
            headers.append(("Retry-After", str(rl["retry_after"])))
    raise gerror(status, reason, message, "usageLimits", headers=headers)


def calendar_auth(req, desc, write, token, key):
    """Who is calling: {"kind": "token", "email"} or {"kind": "key"}.
    Raises Google's 400/401/403 as §5 and §7 describe."""
    with STATE.lock:
        if token:
            rec = live_access_token(token)
            if rec is None:
                raise gerror(401, "authError", "Invalid Credentials",
                             location_type="header", location="Authorization",
                             headers=[("WWW-Authenticate",
                                       'Bearer realm="https://accounts.'
                                       'google.com/", error="invalid_token"')])
            allowed = desc.get("scopes", [])
            if not any(s in allowed for s in rec["scopes"]):
                raise gerror(403, "insufficientPermissions",
                             "Request had insufficient authentication "
                             "scopes.",
                             headers=[("WWW-Authenticate",
                                       'Bearer realm="https://accounts.'
                                       'google.com/", error="insufficient_'
                                       'scope", scope="%s"'
                                       % " ".join(allowed))])
            return {"kind": "token", "email": rec["email"]}
        if key:
            if key not in (STATE.google.get("api_keys") or []):
                msg = "API key not valid. Please pass a valid API key."
                raise gerror(400, "badRequest", msg, extra={
                    "status": "INVALID_ARGUMENT",
                    "details": [{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "calendar-json."
                                     "googleapis.com"}}]})
            if write:
                raise gerror(401, "required", "Login Required",
                             location_type="header", location="Authorization")
            return {"kind": "key"}
    raise gerror(401, "required", "Login Required", location_type="header",
                 location="Authorization")


def check_api_enabled(auth):
    """Google's 403 accessNotConfigured when the Calendar API is off in the
    caller's project (protocols.md §11.2: a real capture's shape)."""
    off = STATE.google.get("calendar_api_disabled")
    if not off or (off == "oauth" and auth["kind"] != "token") or \
            (off == "key" and auth["kind"] != "key"):
        return
    project = str(STATE.google.get("project_number") or "")
    url = ("https://console.developers.google.com/apis/api/"
           "calendar-json.googleapis.com/overview?project=" + project)
    message = ("Google Calendar API has not been used in project %s before "
               "or it is disabled. Enable it by visiting %s then retry. If "
               "you enabled this API recently, wait a few minutes for the "
               "action to propagate to our systems and retry."
               % (project, url))
    body = {"error": {
        "code": 403, "message": message,
        "errors": [{"message": message, "domain": "usageLimits",
                    "reason": "accessNotConfigured",
                    "extendedHelp": "https://console.developers.google.com"}],
        "status": "PERMISSION_DENIED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"description": "Google developers console API "
                        "activation", "url": url}]},
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
             "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
             "metadata": {"consumer": "projects/" + project,
                          "service": "calendar-json.googleapis.com"}}]}}
    raise HttpError(json_response(403, body, GOOGLE_JSON))


def get_calendar(cal_id, auth):
    """The calendar, or Google's 404 (unknown, or private with a key)."""
    if cal_id == "primary":
        if auth["kind"] != "token":
            raise gerror(404, "notFound", "Not Found")
        cal_id = auth["email"]
        if cal_id not in STATE.calendars:
            STATE.add_calendar(cal_id, public=False)
    cal = STATE.calendars.get(cal_id)
    if cal is None or (auth["kind"] == "key" and not cal.public):
        raise gerror(404, "notFound", "Not Found")
    return cal


def handle_calendar(req):
    """Everything below /calendar/v3/: route by the discovery document."""
    segs = req.raw_path[len("/calendar/v3/"):].split("/")
    mid, desc, params = DISCOVERY.route(req.method, segs)
    if mid is None:
        raise gerror(404, "notFound", "Not Found")
    token = bearer_token(req)
    key = first(req.query, "key") or req.header("x-goog-api-key")
    cred = ("token:" + token if token else "key:" + key if key
            else "anon:" + str(req.client))
    check_rate(cred)
    write = desc["httpMethod"] != "GET" and mid != "freebusy.query"
    auth = calendar_auth(req, desc, write, token, key)
    with STATE.lock:
        check_api_enabled(auth)
    q = DISCOVERY.check_params(desc, req.query)
    tree = None
    if q.get("fields"):
        schema = (desc.get("response") or {}).get("$ref")
        if schema:
            tree = DISCOVERY.parse_fields(q["fields"], schema)
    handler = CALENDAR_METHODS.get(mid)
    if handler is None:
        raise gerror(501, "notImplemented",
                     "The simulator does not implement %s." % mid)
    with STATE.lock:
        status, value, headers = handler(req, q, params, auth)
    if status in (204, 304):
        return Response(status, b"", None, headers)
    value = Discovery.apply_fields(value, tree)
    pretty = (q.get("prettyPrint") or "true").lower() != "false"
    headers = list(headers) + [
        ("Cache-Control", "private, max-age=0, must-revalidate, no-transform"),
        ("Vary", "Origin, X-Origin, Referer")]
    return json_response(status, value, GOOGLE_JSON, headers, pretty)


def json_body(req):
    """The request body as a JSON object, or Google's parse error."""
    try:
        value = req.json()
    except ValueError:
        raise gerror(400, "parseError", "Parse Error")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise gerror(400, "parseError", "Parse Error")
    return value


def out_zone(q, cal):
    name = q.get("timeZone")
    if name:
        zone = get_zone(name)
        if zone is None:
            raise bad_param("timeZone", name,
                            "Invalid time zone definition: %s" % name)
        return zone, name
    return cal.tz, cal.time_zone


def render_event(data, out_tz):
    out = copy.deepcopy(data)
    for k in ("start", "end", "originalStartTime"):
        if k in out:
            out[k] = render_edt(out[k], out_tz)
    return out


def touch(cal, ev, bump_sequence=False):
    """Record a change: updated, etag, change counter (and sequence)."""
    cal.counter += 1
    ev.seq = cal.counter
    push_changed(cal)
    ev.data["updated"] = fmt_millis(time.time())
    ev.data["etag"] = new_etag()
    if bump_sequence:
        ev.data["sequence"] = int(ev.data.get("sequence") or 0) + 1


def new_event_data(cal, eid, creator):
    now = fmt_millis(time.time())
    link = b64url(("%s %s" % (eid, cal.id)).encode())
    return {"kind": "calendar#event", "etag": new_etag(), "id": eid,
            "status": "confirmed",
            "htmlLink": "https://www.google.com/calendar/event?eid=" + link,
            "created": now, "updated": now,
            "creator": {"email": creator},
            "organizer": {"email": cal.id, "displayName": cal.summary,
                          "self": True},
            "iCalUID": eid + "@google.com", "sequence": 0,
            "reminders": {"useDefault": True}, "eventType": "default"}


# -- validation of Event bodies ------------------------------------------

def check_edt(edt, which, recurring):
    """Validate one EventDateTime; returns ('date', date) or ('dt', aware)."""
    if not isinstance(edt, dict) or (edt.get("date") is None
                                     and edt.get("dateTime") is None):
        raise gerror(400, "required", "Missing %s time." % which)
    if edt.get("date") is not None and edt.get("dateTime") is not None:
        raise gerror(400, "invalid",
                     "Invalid %s time: give either date or dateTime, not "
                     "both." % which)
    tzname = edt.get("timeZone")
    if tzname is not None and get_zone(tzname) is None:
        raise gerror(400, "invalid",
                     "Invalid time zone definition for %s time." % which)
    if edt.get("date") is not None:
        day = parse_date(edt["date"])
        if day is None:
            raise gerror(400, "invalid", "Invalid %s time." % which)
        return ("date", day)
    moment = parse_rfc3339(edt["dateTime"], require_offset=False)
    if moment is None:
        raise gerror(400, "invalid", "Invalid %s time." % which)
    if (moment.tzinfo is None or recurring) and tzname is None:
        raise gerror(400, "required",
                     "Missing time zone definition for %s time." % which)
    if moment.tzinfo is None:
        moment = localize(moment, get_zone(tzname))
    return ("dt", moment)


def check_event(data, recurring_check=True):
    """Semantic checks on a complete (merged) event."""
    recurring = bool(data.get("recurrence"))
    s = check_edt(data.get("start"), "start", recurring)
    e = check_edt(data.get("end"), "end", recurring)
    if s[0] != e[0]:
        raise gerror(400, "invalid", "Start and end times must either both "
                     "be date or both be dateTime.")
    if (s[0] == "date" and e[1] <= s[1]) or (s[0] == "dt" and e[1] < s[1]):
        raise gerror(400, "timeRangeEmpty",
                     "The specified time range is empty.", "calendar")
    if recurring and recurring_check:
        zone = event_zone(data["start"], UTC)
        try:
            parse_recurrence(data["recurrence"], zone)
        except RecurrenceError as exc:
            raise gerror(400, "invalid",
                         "Invalid recurrence rule: %s (the simulator "
                         "supports RRULE FREQ=DAILY|WEEKLY with INTERVAL, "
                         "COUNT, UNTIL, BYDAY, WKST; RDATE; EXDATE)." % exc)
    enums = {"status": ("confirmed", "tentative", "cancelled"),
             "transparency": ("opaque", "transparent"),
             "visibility": ("default", "public", "private", "confidential"),
             "eventType": ("default", "outOfOffice", "focusTime",
                           "workingLocation", "fromGmail", "birthday")}
    for field, allowed in enums.items():
        v = data.get(field)
        if v is not None and v not in allowed:
            raise gerror(400, "invalid",
                         "Invalid value for %s: '%s'." % (field, v))
    for i, att in enumerate(data.get("attendees") or []):
        email = (att or {}).get("email")
        if not email:
            raise gerror(400, "required",
                         "Missing attendee email (attendees[%d].email)." % i)
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            raise gerror(400, "invalid",
                         "Invalid attendee email (attendees[%d].email)." % i)
        rs = att.get("responseStatus")
        if rs is not None and rs not in ("needsAction", "declined",
                                         "tentative", "accepted"):
            raise gerror(400, "invalid",
                         "Invalid value for attendees[%d].responseStatus."
                         % i)
    overrides = (data.get("reminders") or {}).get("overrides") or []
    if len(overrides) > 5:
        raise gerror(400, "invalid",
                     "The maximum number of override reminders is 5.")
    for r in overrides:
        r = r or {}
        if r.get("method") not in ("email", "popup") or not isinstance(
                r.get("minutes"), int) or not 0 <= r["minutes"] <= 40320:
            raise gerror(400, "invalid", "Invalid reminder override.")


def check_create_request(cd):
    cr = cd.get("createRequest")
    if not isinstance(cr, dict):
        return None
    kind = (cr.get("conferenceSolutionKey") or {}).get("type")
    if kind != "hangoutsMeet":
        raise gerror(400, "invalid", "Invalid conference type value.")
    if not cr.get("requestId"):
        raise gerror(400, "invalid",
                     "Invalid conference create request: requestId is "
                     "required (conferenceData.createRequest.requestId).")
    return cr


def start_conference(ev, cr, notes=None):
    """Begin creating a Meet conference (pending, §2.3)."""
    ev.data["conferenceData"] = {"createRequest": {
        "requestId": cr["requestId"],
        "conferenceSolutionKey": {"type": "hangoutsMeet"},
        "status": {"statusCode": "pending"}}}
    if notes is not None:
        ev.data["conferenceData"]["notes"] = notes
    ev.data.pop("hangoutLink", None)
    pending = int(STATE.google.get("conference_pending_gets") or 0)
    if pending <= 0:
        resolve_conference(ev)
    else:
        ev.conf_left = pending


def resolve_conference(ev):
    """A pending conference becomes success (or failure, if configured)."""
    ev.conf_left = None
    cd = ev.data.get("conferenceData") or {}
    cr = cd.setdefault("createRequest", {})
    if STATE.google.get("conference_failure"):
        cr["status"] = {"statusCode": "failure"}
        return
    code = meet_code()
    url = "https://meet.google.com/" + code
    pin = "".join(random.choice(string.digits) for _ in range(9))
    cd["entryPoints"] = [
        {"entryPointType": "video", "uri": url,
         "label": "meet.google.com/" + code},
        {"entryPointType": "phone", "uri": "tel:+54-11-5555-0147",
         "label": "+54 11 5555-0147", "pin": pin, "regionCode": "AR"},
        {"entryPointType": "more",
         "uri": "https://tel.meet/%s?pin=%s" % (code, pin), "pin": pin}]
    cd["conferenceSolution"] = {"key": {"type": "hangoutsMeet"},
                                "name": "Google Meet", "iconUri": MEET_ICON}
    cd["conferenceId"] = code
    cd["signature"] = rand_token(30)
    cr["status"] = {"statusCode": "success"}
    ev.data["conferenceData"] = cd
    ev.data["hangoutLink"] = url


def video_link(cd):
    for ep in (cd or {}).get("entryPoints") or []:
        if isinstance(ep, dict) and ep.get("entryPointType") == "video":
            return ep.get("uri")
    return None


def apply_conference(ev, cd_in, cdv):
    """conferenceData from a write with conferenceDataVersion=1."""
    if cdv != 1:
        return
    if cd_in is None:
        ev.data.pop("conferenceData", None)
        ev.data.pop("hangoutLink", None)
        ev.conf_left = None
        return
    cr = check_create_request(cd_in)
    old = (ev.data.get("conferenceData") or {}).get("createRequest") or {}
    if cr is not None:
        if old.get("requestId") == cr["requestId"]:
            return          # same requestId: the request is ignored (§2.3)
        start_conference(ev, cr, cd_in.get("notes"))
        return
    ev.data["conferenceData"] = copy.deepcopy(cd_in)
    ev.conf_left = None
    link = video_link(cd_in)
    if link:
        ev.data["hangoutLink"] = link
    else:
        ev.data.pop("hangoutLink", None)


def prepare_body(body):
    """Validate against the discovery Event schema; drop read-only fields."""
    DISCOVERY.validate(body, {"$ref": "Event"}, "")
    data = {k: v for k, v in body.items() if k not in READ_ONLY_EVENT_FIELDS}
    return data


def check_if_match(req, ev):
    want = req.header("if-match")
    if want and want != "*" and want != ev.data.get("etag"):
        raise gerror(412, "conditionNotMet", "Precondition Failed",
                     location_type="header", location="If-Match")


# -- events.insert / get / patch / update / delete -----------------------

def ev_insert(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    body = json_body(req)
    data = prepare_body(body)
    cdv = int(q.get("conferenceDataVersion") or 0)
    cd_in = data.pop("conferenceData", None)
    data = {k: v for k, v in data.items() if v is not None}
    if "id" in data and not EVENT_ID_RE.match(data["id"]):
        raise gerror(400, "invalid", "Invalid resource id value.")
    check_event(data)
    if cdv == 1 and isinstance(cd_in, dict):
        check_create_request(cd_in)
    eid = data.get("id") or base32hex_id()
    if eid in cal.events:
        raise gerror(409, "duplicate",
                     "The requested identifier already exists.")
    stored = new_event_data(cal, eid, auth.get("email") or cal.id)
    stored.update(data)
    ev = StoredEvent(stored, 0)
    cal.events[eid] = ev
    if cdv == 1 and isinstance(cd_in, dict):
        apply_conference(ev, cd_in, 1)
    cal.counter += 1
    ev.seq = cal.counter
    push_changed(cal)
    return 200, render_event(ev.data, cal.tz), [("ETag", ev.data["etag"])]


def find_event(cal, eid):
    """(stored master-or-event, rendered instance or None) for an id;
    recurring instance ids '<master>_<YYYYMMDD[THHMMSSZ]>' are synthesised."""
    ev = cal.events.get(eid)
    if ev is not None:
        return ev, None
    m = re.match(r"^(.+)_(\d{8})(T\d{6}Z)?$", eid)
    if not m or m.group(1) not in cal.events:
        return None, None
    master = cal.events[m.group(1)]
    if not master.data.get("recurrence"):
        return None, None
    try:
        if m.group(3):
            t = dt.datetime.strptime(m.group(2) + m.group(3),
                                     "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            lo, hi = t - dt.timedelta(seconds=1), t + dt.timedelta(seconds=1)
        else:
            d = dt.datetime.strptime(m.group(2), "%Y%m%d").date()
            lo = midnight(d, cal.tz) - dt.timedelta(days=1)
            hi = midnight(d, cal.tz) + dt.timedelta(days=2)
    except ValueError:
        return None, None
    for inst in expand_event(master.data, cal.tz, lo, hi):
        if instance_suffix(inst) == m.group(2) + (m.group(3) or ""):
            return master, make_instance(master.data, inst, cal.tz)
    return None, None


def ev_get(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    tz, _ = out_zone(q, cal)
    ev, inst = find_event(cal, params["eventId"])
    if ev is None:
        raise gerror(404, "notFound", "Not Found")
    if inst is not None:
        return 200, render_event(inst, tz), [("ETag", inst["etag"])]
    if ev.conf_left is not None:
        if ev.conf_left > 0:
            ev.conf_left -= 1
        else:
            resolve_conference(ev)
            touch(cal, ev)
    etag = ev.data.get("etag")
    if etag and req.header("if-none-match") == etag:
        return 304, None, [("ETag", etag)]
    return 200, render_event(ev.data, tz), [("ETag", etag or "")]


def ev_write(req, q, params, auth, full):
    """events.patch (full=False) and events.update (full=True)."""
    cal = get_calendar(params["calendarId"], auth)
    ev = cal.events.get(params["eventId"])
    if ev is None:
        raise gerror(404, "notFound", "Not Found")
    check_if_match(req, ev)
    body = json_body(req)
    data = prepare_body(body)
    cdv = int(q.get("conferenceDataVersion") or 0)
    has_cd = "conferenceData" in data
    cd_in = data.pop("conferenceData", None)
    data.pop("id", None)
    data.pop("iCalUID", None)
    if full:
        keep = ("kind", "etag", "id", "htmlLink", "created", "updated",
                "creator", "organizer", "iCalUID", "sequence",
                "conferenceData", "hangoutLink", "eventType")
        merged = {k: v for k, v in ev.data.items() if k in keep}
        merged.setdefault("status", "confirmed")
        merged.update({k: v for k, v in data.items() if v is not None})
        if "reminders" not in merged:
            merged["reminders"] = {"useDefault": True}
    else:
        merged = copy.deepcopy(ev.data)
        for k, v in data.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
    check_event(merged)
    if cdv == 1 and has_cd and isinstance(cd_in, dict):
        check_create_request(cd_in)
    old_data, old_left = ev.data, ev.conf_left
    ev.data = merged
    try:
        if has_cd:
            apply_conference(ev, cd_in, cdv)
    except HttpError:
        ev.data, ev.conf_left = old_data, old_left
        raise
    touch(cal, ev, bump_sequence=True)
    return 200, render_event(ev.data, cal.tz), [("ETag", ev.data["etag"])]


def ev_patch(req, q, params, auth):
    return ev_write(req, q, params, auth, full=False)


def ev_update(req, q, params, auth):
    return ev_write(req, q, params, auth, full=True)


def ev_delete(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    ev = cal.events.get(params["eventId"])
    if ev is None:
        raise gerror(404, "notFound", "Not Found")
    if ev.data.get("status") == "cancelled":
        raise gerror(410, "deleted", "Resource has been deleted")
    check_if_match(req, ev)
    ev.data["status"] = "cancelled"
    ev.conf_left = None
    touch(cal, ev, bump_sequence=True)
    return 204, None, []


# -- events.list ----------------------------------------------------------

def parse_time_param(q, name):
    value = q.get(name)
    if value is None:
        return None
    moment = parse_rfc3339(value, require_offset=True)
    if moment is None:
        raise bad_param(name, value,
                        "Invalid value for %s: '%s' (an RFC3339 timestamp "
                        "with a mandatory time zone offset is required)."
                        % (name, value))
    return moment


def event_matches(data, q_terms, ical, priv, shared, types):
    if ical is not None and data.get("iCalUID") != ical:
        return False
    if types and data.get("eventType", "default") not in types:
        return False
    ext = data.get("extendedProperties") or {}
    for spec, bag in ((priv, ext.get("private") or {}),
                      (shared, ext.get("shared") or {})):
        for item in spec or []:
            k, _, v = item.partition("=")
            if bag.get(k) != v:
                return False
    if q_terms:
        parts = [data.get("summary"), data.get("description"),
                 data.get("location")]
        for att in data.get("attendees") or []:
            if isinstance(att, dict):
                parts += [att.get("email"), att.get("displayName")]
        org = data.get("organizer") or {}
        parts += [org.get("email"), org.get("displayName")]
        hay = " ".join(str(p) for p in parts if p).lower()
        if not all(t in hay for t in q_terms):
            return False
    return True


def collect_events(cal, single, include_cancelled, tmin, tmax, updated_min,
                   since, filters):
    """The matching events/instances (unrendered), in storage order."""
    out = []
    for ev in cal.events.values():
        d = ev.data
        if since is not None and ev.seq <= since:
            continue
        if d.get("status") == "cancelled" and not include_cancelled:
            continue
        if updated_min is not None:
            upd = parse_rfc3339(d.get("updated"))
            if upd is None or upd < updated_min:
                continue
        if not event_matches(d, *filters):
            continue
        if d.get("recurrence") and not d.get("recurringEventId"):
            if single:
                for inst in expand_event(d, cal.tz, tmin, tmax):
                    out.append(make_instance(d, inst, cal.tz))
            elif (tmin is None and tmax is None) or \
                    expand_event(d, cal.tz, tmin, tmax):
                out.append(d)
            continue
        s = edt_instant(d.get("start"), cal.tz)
        e = edt_instant(d.get("end"), cal.tz)
        if tmin is not None and (e is None or not e > tmin):
            continue
        if tmax is not None and (s is None or not s < tmax):
            continue
        out.append(d)
    return out


def _bound(store, limit):
    while len(store) > limit:
        store.pop(next(iter(store)))


def ev_list(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    out_tz, out_tz_name = out_zone(q, cal)
    page_size = min(int(q.get("maxResults") or 250), 2500)
    single = (q.get("singleEvents") or "false").lower() == "true"
    show_deleted = q.get("showDeleted")
    show_deleted = None if show_deleted is None else \
        show_deleted.lower() == "true"
    order = q.get("orderBy")
    sync = q.get("syncToken")
    if order == "startTime" and not single:
        raise gerror(400, "invalid", "The requested ordering is not "
                     "available for the particular query.",
                     location_type="parameter", location="orderBy")
    if sync is not None:
        for name in SYNC_FORBIDDEN:
            if name in q:
                raise gerror(400, "invalid",
                             "The syncToken parameter cannot be combined "
                             "with %s." % name, location_type="parameter",
                             location=name)
        if show_deleted is False:
            raise gerror(400, "invalid",
                         "showDeleted=false cannot be combined with "
                         "syncToken.", location_type="parameter",
                         location="showDeleted")
    tmin = parse_time_param(q, "timeMin")
    tmax = parse_time_param(q, "timeMax")
    updated_min = parse_time_param(q, "updatedMin")
    if tmin is not None and tmax is not None and tmin >= tmax:
        raise gerror(400, "timeRangeEmpty",
                     "The specified time range is empty.", "calendar",
                     "parameter", "timeMax")
    ignore = ("pageToken", "key", "fields", "prettyPrint", "quotaUser",
              "alt", "oauth_token", "access_token", "maxResults", "userIp")
    fingerprint = json.dumps(sorted((k, v) for k, v in req.query.items()
                                    if k not in ignore))
    shape = {"singleEvents": single,
             "eventTypes": sorted(q.get("eventTypes") or [])}
    page_token = q.get("pageToken")
    if page_token:
        st = STATE.page_tokens.get(page_token)
        if st is None or st["cal"] != cal.id or st["fp"] != fingerprint:
            raise gerror(400, "invalid", "Invalid page token value.",
                         location_type="parameter", location="pageToken")
        if st["epoch"] is not None and st["epoch"] != STATE.sync_epoch:
            msg = "Sync token is no longer valid, a full sync is required."
            raise gerror(410, "fullSyncRequired", msg, "calendar",
                         "parameter", "syncToken")
        items, offset, counter = st["items"], st["offset"], st["counter"]
        epoch = st["epoch"]
    else:
        since = None
        if sync is not None:
            tok = STATE.sync_tokens.get(sync)
            if tok is None or tok["cal"] != cal.id:
                msg = "Sync token is no longer valid, a full sync is required."
                raise gerror(410, "fullSyncRequired", msg, "calendar",
                             "parameter", "syncToken")
            if tok["shape"] != shape:
                raise gerror(400, "invalid",
                             "The syncToken was issued for a different query "
                             "(singleEvents/eventTypes differ).",
                             location_type="parameter", location="syncToken")
            since = tok["counter"]
        terms = (q.get("q") or "").lower().split()
        filters = (terms, q.get("iCalUID"), q.get("privateExtendedProperty"),
                   q.get("sharedExtendedProperty"), q.get("eventTypes"))
        include_cancelled = bool(show_deleted) or sync is not None or \
            updated_min is not None
        found = collect_events(cal, single, include_cancelled, tmin, tmax,
                               updated_min, since, filters)
        if order == "startTime":
            found.sort(key=lambda d: (edt_instant(d.get("start"), cal.tz)
                                      or dt.datetime.max.replace(tzinfo=UTC),
                                      d.get("id", "")))
        elif order == "updated":
            found.sort(key=lambda d: (d.get("updated") or "",
                                      d.get("id", "")))
        # snapshot (shallow) now, render only the page being answered
        items = [dict(d) for d in found]
        offset, counter = 0, cal.counter
        epoch = STATE.sync_epoch if sync is not None else None
    page = [render_event(d, out_tz) for d in items[offset:offset + page_size]]
    updated = max([cal.created] + [
        (parse_rfc3339(e.data.get("updated")) or dt.datetime.fromtimestamp(
            0, UTC)).timestamp() for e in cal.events.values()])
    resp = {"kind": "calendar#events",
            "etag": '"p%x%05dg"' % (counter, len(items) % 100000),
            "summary": cal.summary, "updated": fmt_millis(updated),
            "timeZone": out_tz_name,
            "accessRole": "owner" if auth["kind"] == "token" else "reader",
            "defaultReminders": [], "items": page}
    if offset + page_size < len(items):
        token = rand_token(24)
        STATE.page_tokens[token] = {"cal": cal.id, "fp": fingerprint,
                                    "items": items,
                                    "offset": offset + page_size,
                                    "counter": counter, "epoch": epoch}
        _bound(STATE.page_tokens, 2000)
        resp["nextPageToken"] = token
    else:
        token = base64.urlsafe_b64encode(b"\x08" + secrets.token_bytes(19)) \
            .decode()
        STATE.sync_tokens[token] = {"cal": cal.id, "counter": counter,
                                    "shape": shape}
        _bound(STATE.sync_tokens, 20000)
        resp["nextSyncToken"] = token
    return 200, resp, []


# -- calendars.get, freebusy.query ---------------------------------------

def cal_get(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    return 200, {"kind": "calendar#calendar",
                 "etag": '"%d"' % int(cal.created * 1000),
                 "id": cal.id, "summary": cal.summary,
                 "timeZone": cal.time_zone,
                 "conferenceProperties": {
                     "allowedConferenceSolutionTypes": ["hangoutsMeet"]}}, []


def busy_periods(cal, tmin, tmax):
    spans = []
    for ev in cal.events.values():
        d = ev.data
        if d.get("status") == "cancelled" or \
                d.get("transparency") == "transparent":
            continue
        if d.get("recurrence"):
            for inst in expand_event(d, cal.tz, tmin, tmax):
                if inst["all_day"]:
                    spans.append((midnight(inst["start"], cal.tz),
                                  midnight(inst["end"], cal.tz)))
                else:
                    spans.append((inst["start"], inst["end"]))
            continue
        s = edt_instant(d.get("start"), cal.tz)
        e = edt_instant(d.get("end"), cal.tz)
        if s is not None and e is not None and e > tmin and s < tmax:
            spans.append((s, e))
    spans = sorted((max(s, tmin), min(e, tmax)) for s, e in spans)
    merged = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def freebusy(req, q, params, auth):
    body = json_body(req)
    DISCOVERY.validate(body, {"$ref": "FreeBusyRequest"}, "")
    for name in ("timeMin", "timeMax"):
        if not body.get(name):
            raise gerror(400, "required", "Missing %s parameter." % name)
    tmin = parse_rfc3339(body["timeMin"])
    tmax = parse_rfc3339(body["timeMax"])
    if tmin is None or tmax is None:
        raise gerror(400, "invalid", "Bad Request")
    if tmin >= tmax:
        raise gerror(400, "timeRangeEmpty",
                     "The specified time range is empty.", "calendar")
    zone = get_zone(body.get("timeZone") or "UTC") or UTC
    cals = {}
    for item in body.get("items") or []:
        cid = (item or {}).get("id")
        cal = STATE.calendars.get(cid)
        if cal is None or (auth["kind"] == "key" and not cal.public):
            cals[cid] = {"errors": [{"domain": "global",
                                     "reason": "notFound"}], "busy": []}
            continue
        cals[cid] = {"busy": [{"start": fmt_offset(s, zone),
                               "end": fmt_offset(e, zone)}
                              for s, e in busy_periods(cal, tmin, tmax)]}
    return 200, {"kind": "calendar#freeBusy",
                 "timeMin": fmt_millis(tmin.timestamp()),
                 "timeMax": fmt_millis(tmax.timestamp()),
                 "calendars": cals}, []



# -- push notifications: events.watch, channels.stop (protocols.md §10) ----

WATCH_REFUSALS = {
    "webhookUrlNotHttps": (400, "push.webhookUrlNotHttps",
                           "WebHook callback must be HTTPS: %s"),
    "webhookUrlUnauthorized": (401, "push.webhookUrlUnauthorized",
                               "Unauthorized WebHook callback channel: %s"),
    "notSupported": (400, "badRequest", "Push notifications are not "
                     "supported by this resource."),
    "backendError": (503, "backendError", "Backend Error"),
}

CHANNEL_ID_RE = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")


def resource_id_of(cal):
    """An opaque id of the calendar's events collection, stable per
    calendar (every channel on it carries the same one)."""
    digest = hashlib.sha256(("events " + cal.id).encode()).digest()
    return b64url(digest)[:27]


def loopback_http(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "http" and parts.hostname in (
        "127.0.0.1", "localhost", "::1") or (
        parts.scheme == "http" and (parts.hostname or "").startswith("127."))


def http_date_ms(ms):
    return email.utils.formatdate(ms / 1000.0, usegmt=True)


def ev_watch(req, q, params, auth):
    cal = get_calendar(params["calendarId"], auth)
    body = json_body(req)
    cfg = STATE.push
    cid = body.get("id")
    address = body.get("address")
    if not cid:
        raise gerror(400, "required", "Required")
    if not isinstance(cid, str) or not CHANNEL_ID_RE.match(cid):
        raise gerror(400, "invalid", "Invalid channel id.")
    ctype = body.get("type")
    if not ctype:
        raise gerror(400, "required", "Required")
    if ctype not in ("web_hook", "webhook"):
        raise gerror(400, "push.channelTypeNotSupported",
                     "Channel type %s is not supported." % ctype)
    if not address or not isinstance(address, str):
        raise gerror(400, "required", "Required")
    if not address.startswith("https://") and not (
            cfg["allow_http_loopback"] and loopback_http(address)):
        code, reason, msg = WATCH_REFUSALS["webhookUrlNotHttps"]
        raise gerror(code, reason, msg % address)
    token = body.get("token")
    if token is not None and (not isinstance(token, str) or
                              len(token) > 256):
        raise gerror(400, "invalid", "Invalid token: at most 256 "
                     "characters.")
    refuse = cfg.get("refuse_watch")
    if refuse:
        if isinstance(refuse, dict):
            raise gerror(int(refuse.get("status", 400)),
                         refuse.get("reason", "badRequest"),
                         refuse.get("message", "Bad Request"))
        code, reason, msg = WATCH_REFUSALS[refuse]
        raise gerror(code, reason, msg % address if "%s" in msg else msg)
    if cid in STATE.channels:
        raise gerror(400, "channelIdNotUnique",
                     "Channel id %s not unique" % cid)
    now_ms = int(time.time() * 1000)
    ttl_s = int(cfg["max_ttl_s"])
    ttl = (body.get("params") or {}).get("ttl")
    if ttl is not None:
        if not isinstance(ttl, str) or not ttl.isdigit():
            raise gerror(400, "invalid", "Invalid value for ttl: %s" % ttl)
        ttl_s = min(ttl_s, int(ttl))
    expiration = now_ms + ttl_s * 1000
    if body.get("expiration") is not None:
        try:
            asked = int(body["expiration"])
        except (TypeError, ValueError):
            raise gerror(400, "invalid", "Invalid expiration.")
        expiration = min(expiration, asked)
    ch = {
        "id": cid, "resourceId": resource_id_of(cal), "calendar": cal.id,
        "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/"
                       "%s/events?alt=json"
                       % urllib.parse.quote(cal.id, safe=""),
        "address": address, "token": token, "expiration": expiration,
        "owner": auth.get("email"), "created": now_ms, "stopped": None,
        "number": 0, "queue": deque(), "cond": threading.Condition(),
        "closed": False}
    STATE.channels[cid] = ch
    threading.Thread(target=push_worker, args=(ch,), daemon=True).start()
    push_enqueue(ch, "sync")     # may well arrive before this answer
    out = {"kind": "api#channel", "id": cid, "resourceId": ch["resourceId"],
           "resourceUri": ch["resourceUri"],
           "expiration": expiration if cfg["expiration_number"]
           else str(expiration)}
    if token is not None:
        out["token"] = token
    return 200, out, []


def channels_stop(req, q, params, auth):
    body = json_body(req)
    cid, rid = body.get("id"), body.get("resourceId")
    if not cid or not rid:
        raise gerror(400, "required", "Required")
    ch = STATE.channels.get(cid)
    project = str(STATE.google.get("project_number") or "")
    if ch is None or ch["resourceId"] != rid or \
            (ch["owner"] and auth.get("email") != ch["owner"]):
        raise gerror(404, "notFound", "Channel '%s' not found for project "
                     "'%s'" % (cid, project))
    if ch["stopped"] is None:
        ch["stopped"] = int(time.time() * 1000)
    push_close(ch)
    return 204, None, []


def channel_live(ch, now_ms=None):
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    return ch["stopped"] is None and now_ms < ch["expiration"]


def push_close(ch):
    """No more messages on ch: what is queued is dropped."""
    with ch["cond"]:
        ch["closed"] = True
        ch["queue"].clear()
        ch["cond"].notify_all()


def push_enqueue(ch, state):
    """Queue one message on ch (its worker sends them in order)."""
    msg = push_message(ch, state)
    with ch["cond"]:
        if ch["closed"]:
            return
        ch["queue"].append(msg)
        ch["cond"].notify()


def push_message(ch, state):
    """The next message of ch: its number and Google's headers."""
    if state == "sync":
        ch["number"] = 1
    else:                          # larger each time, not sequential
        ch["number"] += random.randint(1, 7)
    headers = [("X-Goog-Channel-ID", ch["id"])]
    if ch["token"] is not None:
        headers.append(("X-Goog-Channel-Token", ch["token"]))
    headers += [
        ("X-Goog-Channel-Expiration", http_date_ms(ch["expiration"])),
        ("X-Goog-Resource-ID", ch["resourceId"]),
        ("X-Goog-Resource-URI", ch["resourceUri"]),
        ("X-Goog-Resource-State", state),
        ("X-Goog-Message-Number", str(ch["number"])),
        ("Content-Type", "application/json; utf-8"),
        ("User-Agent", "APIs-Google; (+https://developers.google.com/"
                       "webmasters/APIs-Google.html)")]
    return {"state": state, "number": ch["number"], "headers": headers,
            "queued": time.time()}


def push_changed(cal):
    """Something changed in cal's events: tell every live channel on it."""
    now_ms = int(time.time() * 1000)
    for ch in STATE.channels.values():
        if ch["calendar"] == cal.id and channel_live(ch, now_ms):
            push_enqueue(ch, "exists")


def push_worker(ch):
    """Delivers ch's messages one after the other, each POST with a
    timeout: a receiver that fails or hangs slows only its own channel."""
    while True:
        with ch["cond"]:
            while not ch["queue"] and not ch["closed"]:
                ch["cond"].wait()
            if not ch["queue"]:
                return
            msg = ch["queue"].popleft()
        push_deliver(ch, msg)


def push_send_all(ch, msgs):
    for msg in msgs:
        push_deliver(ch, msg)


def push_deliver(ch, msg):
    with STATE.lock:
        timeout = float(STATE.push.get("delivery_timeout_s") or 5)
    parts = urllib.parse.urlsplit(ch["address"])
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    entry = {"channel": ch["id"], "url": ch["address"],
             "state": msg["state"], "number": msg["number"],
             "headers": dict(msg["headers"]), "sent": time.time(),
             "status": None, "error": None}
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" \
        else http.client.HTTPConnection
    try:
        conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.putrequest("POST", target, skip_accept_encoding=True)
            for k, v in msg["headers"]:
                conn.putheader(k, v)
            conn.putheader("Content-Length", "0")
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            entry["status"] = resp.status
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        entry["error"] = "%s: %s" % (type(exc).__name__, exc)
    entry["done"] = time.time()
    with STATE.lock:
        entry["seq"] = STATE.next_notification
        STATE.next_notification += 1
        STATE.notifications.append(entry)
        if len(STATE.notifications) > 20000:
            del STATE.notifications[:1000]


def public_channel(ch):
    now_ms = int(time.time() * 1000)
    return {k: ch[k] for k in ("id", "resourceId", "resourceUri", "calendar",
                               "address", "token", "expiration", "owner",
                               "created", "stopped", "number")} | {
        "live": channel_live(ch, now_ms),
        "expired": now_ms >= ch["expiration"]}


def ctl_push(req, rest, body):
    """/_sim/push[/channels[/{id}[/expire|/notify]]|/notifications]"""
    m = req.method
    if not rest:
        if m == "POST":
            if not isinstance(body, dict) or set(body) - set(
                    default_push_config()):
                raise ctl_error(400, "known keys: %s" % ", ".join(
                    sorted(default_push_config())))
            refuse = body.get("refuse_watch")
            if refuse is not None and not isinstance(refuse, dict) and \
                    refuse not in WATCH_REFUSALS:
                raise ctl_error(400, "refuse_watch: null, {status, reason, "
                                "message} or one of %s"
                                % ", ".join(sorted(WATCH_REFUSALS)))
            STATE.push.update(body)
        if m in ("GET", "POST"):
            return ctl_ok(dict(STATE.push))
        raise ctl_error(405, "use GET or POST")
    if rest == ["channels"] and m == "GET":
        return ctl_ok([public_channel(c) for c in STATE.channels.values()])
    if rest == ["notifications"]:
        if m == "DELETE":
            STATE.notifications = []
            return ctl_ok()
        if m == "GET":
            out = list(STATE.notifications)
            cid = first(req.query, "channel")
            if cid:
                out = [n for n in out if n["channel"] == cid]
            try:
                since = int(first(req.query, "since", "0") or 0)
            except ValueError:
                raise ctl_error(400, "since must be an integer")
            return ctl_ok([n for n in out if n["seq"] > since])
    if len(rest) >= 2 and rest[0] == "channels":
        ch = STATE.channels.get(rest[1])
        if ch is None:
            raise ctl_error(404, "no such channel")
        if len(rest) == 2 and m == "GET":
            return ctl_ok(public_channel(ch))
        if rest[2:] == ["expire"] and m == "POST":
            ch["expiration"] = min(ch["expiration"],
                                   int(time.time() * 1000))
            push_close(ch)
            return ctl_ok(public_channel(ch))
        if rest[2:] == ["notify"] and m == "POST":
            body = body if isinstance(body, dict) else {}
            count = body.get("count", 1)
            state = body.get("state", "exists")
            if not isinstance(count, int) or not 1 <= count <= 10000:
                raise ctl_error(400, "count: 1 to 10000")
            if not channel_live(ch):
                raise ctl_error(409, "the channel is not live")
            conc = body.get("concurrency", 1)
            if not isinstance(conc, int) or not 1 <= conc <= 32:
                raise ctl_error(400, "concurrency: 1 to 32")
            if conc == 1:
                for _ in range(count):
                    push_enqueue(ch, state)
                return ctl_ok({"queued": count})
            # Several connections at once, as Google's senders may: the
            # messages (numbered now) are shared out among conc threads.
            msgs = [push_message(ch, state) for _ in range(count)]
            for i in range(conc):
                threading.Thread(target=push_send_all,
                                 args=(ch, msgs[i::conc]),
                                 daemon=True).start()
            return ctl_ok({"queued": count})
    raise ctl_error(404, "unknown control path %s %s" % (m, req.path))


CALENDAR_METHODS = {
    "events.list": ev_list, "events.insert": ev_insert,
    "events.watch": ev_watch, "channels.stop": channels_stop,
    "events.get": ev_get, "events.patch": ev_patch,
    "events.update": ev_update, "events.delete": ev_delete,
    "calendars.get": cal_get, "freebusy.query": freebusy,
}


# ---------------------------------------------------------------------------
# MercadoPago: payments API, webhook signatures, notifications (§8)
# ---------------------------------------------------------------------------

MP_TZ = dt.timezone(dt.timedelta(hours=-4))
MP_STATUS_DETAIL = {"approved": "accredited", "pending":
                    "pending_waiting_payment", "in_process":
                    "pending_contingency", "authorized": "pending_capture",
                    "rejected": "cc_rejected_other_reason",
                    "cancelled": "by_collector", "refunded": "refunded",
                    "charged_back": "settled", "in_mediation": "in_mediation"}


def mp_manifest(data_id, request_id, ts):
    """MercadoPago's signature manifest (§8.2): parts whose value is absent
    are left out; data.id is lower-cased."""
    parts = []
    if data_id not in (None, ""):
        parts.append("id:%s;" % str(data_id).lower())
    if request_id not in (None, ""):
        parts.append("request-id:%s;" % request_id)
    if ts not in (None, ""):
        parts.append("ts:%s;" % ts)
    return "".join(parts)


def mp_signature(secret, data_id, request_id, ts):
    """v1 of x-signature: lowercase hex HMAC-SHA256(secret, manifest)."""
    manifest = mp_manifest(data_id, request_id, ts)
    return hmac.new(str(secret).encode("utf-8"), manifest.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def mp_header(secret, data_id, request_id, ts):
    v1 = mp_signature(secret, data_id, request_id, ts)
    return ("ts=%s,v1=%s" % (ts, v1)) if ts not in (None, "") \
        else "v1=%s" % v1


def mp_now():
    moment = dt.datetime.now(MP_TZ)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d-04:00" % (
        moment.microsecond // 1000)


# Who the access token belongs to (GET /users/me, protocols.md §12.1): the
# collector of the checkout preferences.
MP_USER = {
    "id": 123456789, "nickname": "ESCUELAINGLES", "first_name": "Escuela",
    "last_name": "de Inglés", "email": "cobros@school.test",
    "country_id": "AR", "site_id": "MLA", "user_type": "normal",
    "registration_date": "2024-03-01T10:00:00.000-04:00", "tags": ["normal"],
    "permalink": "http://perfil.mercadolibre.com.ar/ESCUELAINGLES",
    "status": {"site_status": "active"}}


def mp_error(status, error, message, cause=None):
    return HttpError(json_response(status, {
        "message": message, "error": error, "status": status,
        "cause": cause or []}))


def mp_payment_defaults(pid, status):
    now = mp_now()
    return {
        "id": pid, "date_created": now,
        "date_approved": now if status == "approved" else None,
        "date_last_updated": now, "date_of_expiration": None,
        "money_release_date": None, "operation_type": "regular_payment",
        "issuer_id": "310", "payment_method_id": "visa",
        "payment_type_id": "credit_card",
        "payment_method": {"id": "visa", "type": "credit_card",
                           "issuer_id": "310"},
        "status": status, "status_detail": MP_STATUS_DETAIL.get(status),
        "currency_id": "ARS", "description": "Clase de Ingles",
        "live_mode": False, "sponsor_id": None, "authorization_code": None,
        "collector_id": 123456789,
        "payer": {"type": None, "id": "987654321",
                  "email": "test_user_ar@testuser.com",
                  "identification": {"type": "DNI", "number": "12345678"},
                  "phone": {"area_code": None, "number": None,
                            "extension": None},
                  "first_name": None, "last_name": None},
        "metadata": {}, "additional_info": {}, "order": {},
        "external_reference": None, "transaction_amount": 10000.0,
        "transaction_amount_refunded": 0, "coupon_amount": 0,
        "installments": 1,
        "transaction_details": {"net_received_amount": 9500.0,
                                "total_paid_amount": 10000.0,
                                "overpaid_amount": 0,
                                "installment_amount": 10000.0},
        "fee_details": [], "captured": True, "binary_mode": False,
        "statement_descriptor": "ENGLISH SCHOOL", "notification_url": None,
        "refunds": [], "point_of_interaction": {"type": "UNSPECIFIED"},
    }


def mp_put_payment(spec):
    """Create a payment, or change the given fields of a stored one."""
    if not isinstance(spec, dict):
        raise ctl_error(400, "payment must be a JSON object")
    spec = dict(spec)
    pid = spec.pop("id", None)
    raw = spec.pop("raw_b64", False)
    if raw not in (False, None) and not isinstance(raw, str):
        raise ctl_error(400, "raw_b64 must be a base64 string or null")
    try:
        raw = base64.b64decode(raw, validate=True) if raw else raw
    except ValueError:
        raise ctl_error(400, "raw_b64 is not valid base64")
    if pid is None:
        pid = STATE.next_payment_id
        STATE.next_payment_id += 1
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        raise ctl_error(400, "payment id must be a number")
    if raw is None or (raw is False and spec.get("replace")):
        STATE.payment_raw.pop(pid, None)
    elif raw is not False:
        STATE.payment_raw[pid] = raw
    old = STATE.payments.get(pid)
    if old is None or spec.pop("replace", False):
        status = spec.get("status", "approved")
        pay = mp_payment_defaults(pid, status)
    else:
        pay = old
        spec.pop("replace", None)
        pay["date_last_updated"] = mp_now()
        if spec.get("status") == "approved" and not pay.get("date_approved"):
            pay["date_approved"] = mp_now()
    if "status" in spec and "status_detail" not in spec:
        spec["status_detail"] = MP_STATUS_DETAIL.get(spec["status"])
    pay.update(spec)
    pay["id"] = pid
    STATE.payments[pid] = pay
    return pay


MP_COLLECTOR_ID = 123456789
MP_CLIENT_ID = "6295877106812064"
MP_AUTO_RETURN = ("approved", "all")
MP_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def mp_is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def mp_check_date(pref, name):
    """An ISO 8601 date with an offset (2017-02-01T12:00:00.000-04:00)."""
    value = pref.get(name)
    if value is None:
        return None
    moment = parse_rfc3339(value) if isinstance(value, str) else None
    if moment is None:
        raise mp_error(400, "invalid_" + name, name + " invalid.")
    return moment


def mp_check_preference(pref):
    """The checks MercadoPago makes on POST /checkout/preferences (its
    reference lists these codes and messages; the quantity and title
    messages are the simulator's own)."""
    if not isinstance(pref, dict):
        raise mp_error(400, "bad_request", "body must be a JSON object")
    items = pref.get("items")
    if items is None or items == []:
        raise mp_error(400, "invalid_items", "items needed.")
    if not isinstance(items, list):
        raise mp_error(400, "invalid_items", "items must be a array")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise mp_error(400, "invalid_items", "items must be a array")
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise mp_error(400, "invalid_items", "title needed.")
        qty = item.get("quantity")
        if qty is None:
            raise mp_error(400, "invalid_items", "quantity needed.")
        if not isinstance(qty, int) or isinstance(qty, bool):
            raise mp_error(400, "invalid_items",
                           "items.%d.quantity must be a integer." % n)
        if qty < 1:
            raise mp_error(400, "invalid_items", "quantity invalid.")
        cur = item.get("currency_id")
        if cur is None:
            raise mp_error(400, "invalid_items", "currency_id needed.")
        if not isinstance(cur, str) or not MP_CURRENCY_RE.match(cur):
            raise mp_error(400, "invalid_items", "currency_id invalid.")
        price = item.get("unit_price")
        if price is None:
            raise mp_error(400, "invalid_items", "unit_price needed.")
        if not mp_is_number(price):
            raise mp_error(400, "invalid_items",
                           "unit_price must be a number.")
        if price <= 0 or round(price, 2) != price:
            raise mp_error(400, "invalid_items", "unit_price invalid.")
    back = pref.get("back_urls")
    if back is not None and (not isinstance(back, dict) or any(
            k not in ("success", "pending", "failure")
            or not isinstance(v, str) for k, v in back.items())):
        raise mp_error(400, "invalid_back_urls",
                       "back_urls invalid. Wrong format")
    auto = pref.get("auto_return")
    if auto is not None:
        if auto not in MP_AUTO_RETURN:
            raise mp_error(400, "invalid_auto_return", "auto_return invalid.")
        if not (back or {}).get("success"):
            raise mp_error(400, "invalid_auto_return",
                           "auto_return invalid. back_url.success must be "
                           "defined")
    for name in ("external_reference", "notification_url"):
        if pref.get(name) is not None and not isinstance(pref[name], str):
            raise mp_error(400, "bad_request",
                           "invalid type for field %s" % name)
    if pref.get("metadata") is not None and \
            not isinstance(pref["metadata"], dict):
        raise mp_error(400, "bad_request", "invalid type for field metadata")
    if pref.get("expires") is not None and \
            not isinstance(pref["expires"], bool):
        raise mp_error(400, "bad_request", "invalid type for field expires")
    start = mp_check_date(pref, "expiration_date_from")
    end = mp_check_date(pref, "expiration_date_to")
    if start and end and end <= start:
        raise mp_error(400, "invalid_expiration_date_to",
                       "expiration_date_to invalid.")


def mp_create_preference(req):
    try:
        pref = req.json()
    except ValueError:
        raise mp_error(400, "bad_request", "invalid JSON body")
    mp_check_preference(pref)
    pid = "%d-%s" % (MP_COLLECTOR_ID, uuid.uuid4())
    out = copy.deepcopy(pref)
    out.update({
        "id": pid,
        "init_point": "https://www.mercadopago.com.ar/checkout/v1/"
                      "redirect?pref_id=" + pid,
        "sandbox_init_point": "https://sandbox.mercadopago.com.ar/checkout/"
                              "v1/redirect?pref_id=" + pid,
        "date_created": mp_now(), "collector_id": MP_COLLECTOR_ID,
        "client_id": MP_CLIENT_ID, "site_id": "MLA",
        "operation_type": pref.get("operation_type", "regular_payment"),
        "internal_metadata": None})
    STATE.preferences.append(out)
    return json_response(201, out)


def handle_mp(req):
    """The MercadoPago API below /mp: GET /mp/v1/payments/{id} and
    POST /mp/checkout/preferences."""
    auth = req.header("authorization") or ""
    with STATE.lock:
        want = STATE.mp["access_token"]
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if not token or not hmac.compare_digest(token.encode(),
                                                want.encode()):
            raise mp_error(401, "unauthorized", "invalid access token")
        if re.match(r"^/mp/checkout/preferences/?$", req.path) and \
                req.method == "POST":
            return mp_create_preference(req)
        if re.match(r"^/mp/users/me/?$", req.path) and req.method == "GET":
            return json_response(200, copy.deepcopy(MP_USER))
        m = re.match(r"^/mp/v1/payments/([^/]+)/?$", req.path)
        if m and req.method == "GET":
            pid = m.group(1)
            pay = STATE.payments.get(int(pid)) if pid.isdigit() else None
            raw = STATE.payment_raw.get(int(pid)) if pay is not None \
                else None
            if raw is not None:
                # A payment as a JSON parser may refuse it (invalid UTF-8,
                # nested too deep): exactly the bytes planted.
                return Response(200, raw, PLAIN_JSON)
            if pay is None:
                stamp = dt.datetime.now(UTC).strftime("%d-%m-%YT%H:%M:%SUTC")
                raise mp_error(404, "not_found", "Payment not found", [{
                    "code": 2000, "description": "Payment not found",
                    "data": "%s;%s" % (stamp, uuid.uuid4())}])
            return json_response(200, pay)
    raise mp_error(404, "not_found", "resource not found")


def mp_notify(spec):
    """POST a notification the way MercadoPago does and report the reply."""
    if not isinstance(spec, dict) or not spec.get("url") or \
            spec.get("payment_id") in (None, ""):
        raise ctl_error(400, "url and payment_id are required")
    url = spec["url"]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ctl_error(400, "url must be http(s)://host[:port]/path")
    pid = str(spec["payment_id"])
    form = spec.get("form", "signed")
    topic = spec.get("topic", "payment")
    with STATE.lock:
        default_secret = STATE.mp["webhook_secret"]
    if form == "signed":
        ts = str(spec["ts"]) if spec.get("ts") is not None else \
            str(int(time.time() * 1000))
        request_id = spec.get("request_id") or str(uuid.uuid4())
        secret = spec.get("secret") or default_secret
        if "signature" in spec:
            sig = spec["signature"]
        else:
            sig = mp_header(secret, pid, request_id, ts)
        query = [("data.id", pid), ("type", topic)]
        body = {"action": spec.get("action", "%s.updated" % topic),
                "api_version": "v1", "data": {"id": pid},
                "date_created": dt.datetime.now(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"),
                "id": str(random.randint(10 ** 10, 10 ** 11 - 1)),
                "live_mode": False, "type": topic, "user_id": 724484980}
        headers = [("Content-Type", "application/json"),
                   ("x-request-id", request_id)]
        if sig not in (None, False):
            headers.append(("x-signature", str(sig)))
        headers += [("X-Retry", "0"), ("X-Socket-Timeout", "22000"),
                    ("User-Agent", "restclient-node/4.15.3")]
    elif form == "legacy":
        query = [("topic", topic), ("id", pid)]
        body = {"resource": pid, "topic": topic}
        headers = [("Content-Type", "application/json"),
                   ("User-Agent", "MercadoPago Feed v2.0 %s" % topic)]
    else:
        raise ctl_error(400, "form must be 'signed' or 'legacy'")
    if "body" in spec:
        body = spec["body"]
    raw = body if isinstance(body, str) else json.dumps(body)
    raw = raw.encode("utf-8")
    for k, v in (spec.get("headers") or {}).items():
        headers = [(hk, hv) for hk, hv in headers if hk.lower() != k.lower()]
        if v is not None:
            headers.append((k, str(v)))
    target = (parts.path or "/") + "?" + (parts.query + "&" if parts.query
                                          else "") + \
        urllib.parse.urlencode(query)
    method = spec.get("method", "POST")
    sent = {"method": method, "url": "%s://%s%s" % (parts.scheme,
                                                     parts.netloc, target),
            "headers": dict(headers), "body": raw.decode("utf-8", "replace")}
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" \
        else http.client.HTTPConnection
    try:
        conn = conn_cls(parts.hostname, parts.port,
                        timeout=float(spec.get("timeout_s", 22)))
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(raw)))
            conn.endheaders(raw)
            resp = conn.getresponse()
            data = resp.read()
            return {"status": resp.status,
                    "headers": {k.lower(): v for k, v in resp.getheaders()},
                    "body": data.decode("utf-8", "replace"), "request": sent}
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "error": "%s: %s" % (type(exc).__name__, exc),
                "request": sent}


# ---------------------------------------------------------------------------
# Control API (/_sim/...): never logged, never faulted
# ---------------------------------------------------------------------------

def ctl_error(status, message):
    return HttpError(json_response(status, {"error": message}))


def ctl_body(req):
    try:
        value = req.json()
    except ValueError:
        raise ctl_error(400, "invalid JSON body")
    return {} if value is None else value


def ctl_ok(value=None, status=200):
    return json_response(status, {"ok": True} if value is None else value)


def public_fault(rule):
    return {k: v for k, v in rule.items() if not k.startswith("_")}


def add_fault(spec):
    if not isinstance(spec, dict):
        raise ctl_error(400, "a fault rule is a JSON object")
    status = spec.get("status")
    if status is not None and (not isinstance(status, int)
                               or not 100 <= status <= 599):
        raise ctl_error(400, "status must be an HTTP status or null")
    try:
        times = int(spec.get("times", 1))
        delay = int(spec.get("delay_ms") or 0)
    except (TypeError, ValueError):
        raise ctl_error(400, "times and delay_ms must be integers")
    rule = {"id": STATE.next_fault_id, "method": spec.get("method"),
            "path": spec.get("path"), "status": status,
            "body": spec.get("body"), "headers": spec.get("headers") or {},
            "delay_ms": delay, "drop": bool(spec.get("drop")),
            "reset": bool(spec.get("reset")), "times": times,
            "remaining": times, "applied": 0}
    try:
        rule["_re"] = re.compile(rule["path"]) if rule["path"] else None
    except (re.error, TypeError) as exc:
        raise ctl_error(400, "bad path regex: %s" % exc)
    if not isinstance(rule["headers"], dict):
        raise ctl_error(400, "headers must be an object")
    STATE.next_fault_id += 1
    STATE.faults.append(rule)
    return public_fault(rule)


def merge_google(spec):
    if not isinstance(spec, dict):
        raise ctl_error(400, "config must be a JSON object")
    g = STATE.google
    for k, v in spec.items():
        if k == "consent":
            if not isinstance(v, dict):
                raise ctl_error(400, "consent must be an object")
            g["consent"].update(v)
            if v.get("email"):
                STATE.ensure_account(v["email"])
        elif k == "accounts":
            if not isinstance(v, list):
                raise ctl_error(400, "accounts must be a list")
            for spec_acc in v:
                if not isinstance(spec_acc, dict) or not spec_acc.get(
                        "email"):
                    raise ctl_error(400, "each account needs an email")
                acc = STATE.account(spec_acc["email"])
                if acc is None:
                    g["accounts"].append(complete_account(spec_acc))
                else:
                    acc.update({a: b for a, b in spec_acc.items()})
                    acc["sub"] = str(acc["sub"])
        elif k == "calendar_api_disabled" and v not in (True, False,
                                                         "oauth", "key"):
            raise ctl_error(400, "calendar_api_disabled must be true, "
                            "false, \"oauth\" or \"key\"")
        elif k == "clock_skew_s" and (isinstance(v, bool) or
                                      not isinstance(v, (int, float))):
            raise ctl_error(400, "clock_skew_s must be a number")
        elif k in g:
            g[k] = v
        else:
            raise ctl_error(400, "unknown google setting: %s" % k)


def google_view():
    now = time.time()
    g = copy.deepcopy(STATE.google)

    def status(rec, access):
        if rec["revoked"]:
            return "revoked"
        if access and rec["expires_at"] <= now:
            return "expired"
        return "live"

    g["tokens"] = {
        "access": [dict(token=t, email=r["email"], client_id=r["client_id"],
                        scopes=r["scopes"], expires_at=r["expires_at"],
                        status=status(r, True),
                        refresh_token=r["refresh_token"])
                   for t, r in STATE.access_tokens.items()],
        "refresh": [dict(token=t, email=r["email"], client_id=r["client_id"],
                         scopes=r["scopes"], status=status(r, False))
                    for t, r in STATE.refresh_tokens.items()]}
    g["consents"] = [{"client_id": c, "email": e, **v}
                     for (c, e), v in STATE.consents.items()]
    return g


def seed_event(cal, spec, eid=None):
    """Store an event as given (no validation), filling server fields."""
    if not isinstance(spec, dict):
        raise ctl_error(400, "an event is a JSON object")
    eid = eid or spec.get("id") or base32hex_id()
    data = new_event_data(cal, str(eid), cal.id)
    data.update(copy.deepcopy(spec))
    data["id"] = str(eid)
    old = cal.events.get(data["id"])
    ev = StoredEvent(data, 0)
    cal.events[data["id"]] = ev
    if old is not None:
        data["created"] = old.data.get("created", data["created"])
    cr = (data.get("conferenceData") or {}).get("createRequest") or {}
    if (cr.get("status") or {}).get("statusCode") == "pending":
        ev.conf_left = int(STATE.google.get("conference_pending_gets") or 0)
    cal.counter += 1
    ev.seq = cal.counter
    push_changed(cal)
    return data


def ctl_calendars(req, segs, body):
    """/_sim/calendars[/{cid}[/events[/{eid}]]]"""
    m = req.method
    if not segs:
        if m == "GET":
            return ctl_ok([c.describe() for c in STATE.calendars.values()])
        raise ctl_error(405, "use GET")
    cid = segs[0]
    cal = STATE.calendars.get(cid)
    if len(segs) == 1:
        if m == "POST":
            if not isinstance(body, dict):
                raise ctl_error(400, "expected a JSON object")
            tz = body.get("timeZone")
            if tz is not None and get_zone(tz) is None:
                raise ctl_error(400, "unknown time zone %s" % tz)
            if cal is None:
                cal = STATE.add_calendar(cid)
            if "public" in body:
                cal.public = bool(body["public"])
            if tz:
                cal.time_zone = tz
            if body.get("summary"):
                cal.summary = body["summary"]
            return ctl_ok(cal.describe())
        if cal is None:
            raise ctl_error(404, "no such calendar")
        if m == "GET":
            return ctl_ok(cal.describe())
        if m == "DELETE":
            del STATE.calendars[cid]
            return ctl_ok()
        raise ctl_error(405, "use GET, POST or DELETE")
    if segs[1] != "events" or len(segs) > 3:
        raise ctl_error(404, "unknown control path")
    if cal is None:
        if m != "POST" or len(segs) != 2:
            raise ctl_error(404, "no such calendar")
        cal = STATE.add_calendar(cid)
    if len(segs) == 2:
        if m == "GET":
            return ctl_ok([copy.deepcopy(e.data) for e in
                           cal.events.values()])
        if m == "POST":
            if isinstance(body, list):
                return ctl_ok([seed_event(cal, b) for b in body])
            return ctl_ok(seed_event(cal, body))
        raise ctl_error(405, "use GET or POST")
    ev = cal.events.get(segs[2])
    if ev is None:
        raise ctl_error(404, "no such event")
    if m == "GET":
        return ctl_ok(copy.deepcopy(ev.data))
    if m == "PATCH":
        if not isinstance(body, dict):
            raise ctl_error(400, "expected a JSON object")
        for k, v in body.items():
            if k == "id":
                continue
            if v is None:
                ev.data.pop(k, None)
            else:
                ev.data[k] = copy.deepcopy(v)
        touch(cal, ev, bump_sequence=True)
        return ctl_ok(copy.deepcopy(ev.data))
    if m == "DELETE":
        ev.data["status"] = "cancelled"
        touch(cal, ev, bump_sequence=True)
        return ctl_ok(copy.deepcopy(ev.data))
    raise ctl_error(405, "use GET, PATCH or DELETE")


def handle_control(req):
    """Dispatch /_sim/...; see README.md for the list."""
    segs = [urllib.parse.unquote(s)
            for s in req.raw_path.split("/")[2:] if s != ""]
    m = req.method
    body = ctl_body(req) if m in ("POST", "PATCH", "PUT") else None
    top = segs[0] if segs else ""
    rest = segs[1:]
    if top == "mp" and rest == ["notify"] and m == "POST":
        return ctl_ok(mp_notify(body))   # outside the lock: it calls out
    with STATE.lock:
        if top == "health":
            return ctl_ok({"ok": True})
        if top == "reset" and m == "POST":
            STATE.reset()
            return ctl_ok()
        if top == "requests" and not rest:
            if m == "DELETE":
                STATE.requests = []
                return ctl_ok()
            try:
                since = int(first(req.query, "since", "0") or 0)
            except ValueError:
                raise ctl_error(400, "since must be an integer")
            out = [dict(e) for e in STATE.requests if e["seq"] > since]
            pat = first(req.query, "path")
            meth = first(req.query, "method")
            if pat:
                try:
                    rx = re.compile(pat)
                except re.error as exc:
                    raise ctl_error(400, "bad path regex: %s" % exc)
                out = [e for e in out if rx.search(e["path"])]
            if meth:
                out = [e for e in out if e["method"] == meth.upper()]
            return ctl_ok(out)
        if top == "faults":
            if m == "GET" and not rest:
                return ctl_ok([public_fault(r) for r in STATE.faults])
            if m == "POST" and not rest:
                if isinstance(body, list):
                    return ctl_ok([add_fault(r) for r in body])
                return ctl_ok(add_fault(body))
            if m == "DELETE":
                if rest:
                    STATE.faults = [r for r in STATE.faults
                                    if str(r["id"]) != rest[0]]
                else:
                    STATE.faults = []
                return ctl_ok()
        if top == "rate_limit" and not rest:
            if m == "GET":
                return ctl_ok({"rate_limit": STATE.rate_limit})
            if m == "DELETE":
                STATE.rate_limit = None
                STATE.rate_windows = {}
                return ctl_ok()
            if m == "POST":
                if not isinstance(body, dict) or not isinstance(
                        body.get("per_second"), int) or \
                        body["per_second"] < 0:
                    raise ctl_error(400, "per_second (integer) is required")
                status = body.get("status", 403)
                if status not in (403, 429):
                    raise ctl_error(400, "status must be 403 or 429")
                reason = body.get("reason") or "rateLimitExceeded"
                if reason not in ("rateLimitExceeded",
                                  "userRateLimitExceeded"):
                    raise ctl_error(400, "reason must be rateLimitExceeded "
                                    "or userRateLimitExceeded")
                STATE.rate_limit = {"per_second": body["per_second"],
                                    "status": status, "reason": reason,
                                    "retry_after": body.get("retry_after")}
                STATE.rate_windows = {}
                return ctl_ok({"rate_limit": STATE.rate_limit})
        if top == "google" and not rest:
            if m == "POST":
                merge_google(body)
            if m in ("GET", "POST"):
                return ctl_ok(google_view())
        if top == "calendars":
            return ctl_calendars(req, rest, body)
        if top == "push":
            return ctl_push(req, rest, body)
        if top == "tokens" and m == "POST" and len(rest) == 1:
            if rest[0] == "expire":
                now = time.time()
                n = 0
                for rec in STATE.access_tokens.values():
                    if rec["expires_at"] > now:
                        rec["expires_at"] = now - 1
                        n += 1
                return ctl_ok({"ok": True, "expired": n})
            if rest[0] == "revoke":
                body = body if isinstance(body, dict) else {}
                email = (body.get("email") or "").lower() or None
                access_too = body.get("access_tokens", True)
                n = 0
                grants = {(r["client_id"], r["email"].lower())
                          for r in list(STATE.refresh_tokens.values())
                          + list(STATE.access_tokens.values())
                          if email is None or r["email"].lower() == email}
                for cid, em in grants:
                    n += sum(1 for r in STATE.refresh_tokens.values()
                             if r["client_id"] == cid and not r["revoked"]
                             and r["email"].lower() == em)
                    revoke_grant(cid, em, access_too)
                return ctl_ok({"ok": True, "revoked": n})
        if top == "sync" and rest == ["invalidate"] and m == "POST":
            n = len(STATE.sync_tokens)
            STATE.sync_tokens = {}
            STATE.sync_epoch += 1
            return ctl_ok({"ok": True, "invalidated": n})
        if top == "mp":
            if not rest:
                if m == "POST":
                    if not isinstance(body, dict) or set(body) - {
                            "access_token", "webhook_secret"}:
                        raise ctl_error(400, "only access_token and "
                                        "webhook_secret can be set")
                    STATE.mp.update(body)
                if m in ("GET", "POST"):
                    return ctl_ok(dict(STATE.mp))
            if rest == ["payments"]:
                if m == "POST":
                    if isinstance(body, list):
                        return ctl_ok([mp_put_payment(b) for b in body])
                    return ctl_ok(mp_put_payment(body))
                if m == "GET":
                    return ctl_ok(list(STATE.payments.values()))
            if len(rest) == 2 and rest[0] == "payments":
                pid = int(rest[1]) if rest[1].isdigit() else None
                if pid not in STATE.payments:
                    raise ctl_error(404, "no such payment")
                if m == "GET":
                    return ctl_ok(STATE.payments[pid])
                if m == "DELETE":
                    del STATE.payments[pid]
                    STATE.payment_raw.pop(pid, None)
                    return ctl_ok()
            if rest == ["preferences"] and m == "GET":
                return ctl_ok(STATE.preferences)
            if len(rest) == 2 and rest[0] == "preferences" and m == "GET":
                for pref in STATE.preferences:
                    if pref["id"] == rest[1]:
                        return ctl_ok(pref)
                raise ctl_error(404, "no such preference")
            if rest == ["preferences"] and m == "DELETE":
                STATE.preferences = []
                return ctl_ok()
            if rest == ["sign"] and m == "GET":
                secret = first(req.query, "secret") or \
                    STATE.mp["webhook_secret"]
                data_id = first(req.query, "data_id")
                request_id = first(req.query, "request_id")
                ts = first(req.query, "ts")
                return ctl_ok({
                    "manifest": mp_manifest(data_id, request_id, ts),
                    "v1": mp_signature(secret, data_id, request_id, ts),
                    "header": mp_header(secret, data_id, request_id, ts)})
    raise ctl_error(404, "unknown control path %s %s" % (m, req.path))


# ---------------------------------------------------------------------------
# HTTP layer: routing, faults, request log, server, command line
# ---------------------------------------------------------------------------

def openid_configuration(req):
    base = "http://%s" % (req.header("host") or "127.0.0.1")
    return json_response(200, {
        "issuer": "https://accounts.google.com",
        "authorization_endpoint": base + "/o/oauth2/v2/auth",
        "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/v1/userinfo",
        "revocation_endpoint": base + "/revoke",
        "jwks_uri": base + "/oauth2/v3/certs",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                  "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"]})


def route(req):
    """Dispatch a (non-control) request to the simulated service."""
    p = req.path
    if req.raw_path.startswith("/calendar/v3/"):
        return handle_calendar(req)
    if p in ("/o/oauth2/v2/auth", "/o/oauth2/auth"):
        return handle_authorize(req)
    if p in ("/token", "/o/oauth2/token", "/oauth2/v4/token"):
        return handle_token(req)
    if p in ("/revoke", "/o/oauth2/revoke"):
        return handle_revoke(req)
    if p in ("/v1/userinfo", "/oauth2/v3/userinfo", "/oauth2/v2/userinfo",
             "/openidconnect/v1/userinfo"):
        return handle_userinfo(req)
    if p in ("/tokeninfo", "/oauth2/v3/tokeninfo"):
        return handle_tokeninfo(req)
    if p == "/.well-known/openid-configuration":
        return openid_configuration(req)
    if p == "/mp" or p.startswith("/mp/"):
        return handle_mp(req)
    if p.startswith("/calendar/"):
        raise gerror(404, "notFound", "Not Found")
    return html_page(404, "404. That's an error.",
                     "The requested URL %s was not found on this server."
                     % p)


def fault_response(rule, req):
    """The answer a fault rule prescribes."""
    status = rule["status"]
    body = rule.get("body")
    if body is None:
        resp = default_error_response(status, req.path)
    elif isinstance(body, str):
        ctype = "text/html; charset=utf-8" if body.lstrip().startswith("<") \
            else "text/plain; charset=utf-8"
        resp = Response(status, body, ctype)
    else:
        google = not (req.path.startswith("/mp") or req.path in ("/token",
                                                                 "/revoke"))
        resp = json_response(status, body, GOOGLE_JSON if google
                             else PLAIN_JSON)
    for k, v in (rule.get("headers") or {}).items():
        resp.headers = [(hk, hv) for hk, hv in resp.headers
                        if hk.lower() != k.lower()]
        resp.headers.append((k, str(v)))
    return resp


def safely(fn, req):
    """Run a handler; HttpError becomes its response, anything else a
    Google-shaped 500 (the server keeps serving)."""
    try:
        return fn(req)
    except HttpError as exc:
        return exc.response
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return json_response(500, google_error_body(
            500, "backendError", "Backend Error"), GOOGLE_JSON)


class BodyError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


_REDACT = re.compile(r"((?:^|[?&])(?:key|access_token|oauth_token|token|"
                     r"code|refresh_token)=)[^&]*")


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive; every method goes to dispatch."""

    protocol_version = "HTTP/1.1"
    server_version = "sim/1.0"
    sys_version = ""
    timeout = 300           # idle keep-alive connections are closed after

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_HEAD(self):
        self.dispatch()

    def log_message(self, fmt, *args):      # our own log line instead
        pass

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        """The Date header; Google's answers carry clock_skew_s."""
        if timestamp is None:
            timestamp = time.time()
            path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path
            if not (path.startswith("/_sim") or path == "/mp"
                    or path.startswith("/mp/")):
                with STATE.lock:
                    timestamp += float(STATE.google.get("clock_skew_s") or 0)
        return super().date_time_string(timestamp)

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise BodyError(400, "truncated chunked body")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BodyError(400, "bad chunk size")
                if size == 0:
                    while True:      # trailers
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise BodyError(413, "body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise BodyError(400, "bad Content-Length")
        if n < 0:
            raise BodyError(400, "bad Content-Length")
        if n > MAX_BODY:
            raise BodyError(413, "body too large")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BodyError(400, "truncated body")
        return data

    def setup(self):
        super().setup()
        try:        # no Nagle delay between a response's packets
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def send(self, resp):
        """Status, headers (always Content-Length) and body in one write."""
        self.send_response(resp.status)
        for k, v in resp.headers:
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and resp.body:
            self._headers_buffer.append(resp.body)
        data = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(data)
        self.wfile.flush()

    def drop(self, reset):
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET,
                                           socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dispatch(self):
        t0 = time.monotonic()
        client = "%s:%s" % self.client_address[:2]
        try:
            body = self.read_body()
        except BodyError as exc:
            self.close_connection = True
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if not path.startswith("/_sim"):
                STATE.record({
                    "seq": 0, "time": time.time(), "method": self.command,
                    "path": path, "raw_path": self.path,
                    "query": urllib.parse.parse_qs(urllib.parse.urlsplit(
                        self.path).query, keep_blank_values=True),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": "", "json": None, "status": exc.status})
            self.send(json_response(exc.status, {"error": str(exc)}))
            self.server.log_line(self.command, self.path, exc.status, t0,
                                 client)
            return
        req = Request(self.command, self.path, list(self.headers.items()),
                      body, client)
        if req.path == "/_sim" or req.path.startswith("/_sim/"):
            resp = safely(handle_control, req)
            self.send(resp)
            self.server.log_line(self.command, self.path, resp.status, t0,
                                 client)
            return
        entry = STATE.record({
            "seq": 0, "time": time.time(), "method": req.method,
            "path": req.path, "raw_path": req.raw_target,
            "query": req.query, "headers": req.headers_dict(),
            "body": req.text(), "json": req.json_or_none(),
            "status": None})
        rule = STATE.take_fault(req.method, req.path)
        resp = None
        if rule is not None:
            if rule["delay_ms"] > 0:
                time.sleep(rule["delay_ms"] / 1000.0)
            if rule["drop"]:
                self.drop(rule.get("reset"))
                self.server.log_line(self.command, self.path, "dropped", t0,
                                     client)
                return
            if rule["status"] is not None:
                resp = fault_response(rule, req)
        if resp is None:
            resp = safely(route, req)
        with STATE.lock:
            entry["status"] = resp.status
        self.send(resp)
        self.server.log_line(self.command, self.path, resp.status, t0, client)


class SimServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, log_file=None):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)
        self.log_file = log_file
        self.log_lock = threading.Lock()

    def log_line(self, method, target, status, t0, client):
        ms = (time.monotonic() - t0) * 1000
        line = "%s %s %s %s %s %.1fms\n" % (
            fmt_millis(time.time()), client, method,
            _REDACT.sub(r"\1REDACTED", target), status, ms)
        with self.log_lock:
            try:
                out = self.log_file or sys.stderr
                out.write(line)
                out.flush()
            except (OSError, ValueError):
                pass

    def handle_error(self, request, client_address):
        # A client that goes away mid-request is not worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def default_discovery_path():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "reference", "calendar-v3-discovery.json")


def load_discovery(path=None):
    global DISCOVERY
    path = path or os.environ.get("SIM_DISCOVERY") or default_discovery_path()
    DISCOVERY = Discovery(path)
    return DISCOVERY


def write_port_file(path, port):
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path),
                                                  os.getpid()))
    with open(tmp, "w") as fh:
        fh.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0,
                    help="0 picks a free port")
    ap.add_argument("--port-file", help="written (atomically) once listening")
    ap.add_argument("--log", help="request log lines go here (default "
                    "stderr)")
    ap.add_argument("--discovery", help="Calendar v3 discovery document "
                    "(default $SIM_DISCOVERY or tests/sim/reference/...)")
    args = ap.parse_args(argv)
    try:
        load_discovery(args.discovery)
    except (OSError, ValueError, KeyError) as exc:
        print("simulator: cannot load the discovery document: %s" % exc,
              file=sys.stderr)
        return 2
    log_file = open(args.log, "a", buffering=1) if args.log else None
    try:
        server = SimServer((args.host, args.port), Handler, log_file)
    except OSError as exc:
        print("simulator: cannot listen on %s:%d: %s"
              % (args.host, args.port, exc), file=sys.stderr)
        return 2
    port = server.server_address[1]
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    server.log_line("-", "listening on http://%s:%d" % (args.host, port),
                    "-", time.monotonic(), "-")
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    server.log_line("-", "stopped", "-", time.monotonic(), "-")
    if log_file:
        log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
