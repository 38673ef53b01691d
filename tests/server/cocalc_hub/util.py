"""Small helpers shared by every module: times, ids, JSON the way the hub writes it, secrets."""

import base64
import datetime
import hashlib
import json
import os
import re
import secrets
import string
import uuid

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
# Close to the hub's is_valid_email_address: something@something.tld, no spaces or brackets.
EMAIL_RE = re.compile(r'^[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+\.[A-Za-z0-9-]{2,}$')
# The base-62 alphabet of the hub's new-style API keys (digits, lower, upper), checked against
# the recorded "garbage" key error.
BASE62 = string.digits + string.ascii_lowercase + string.ascii_uppercase
KEY_CHARS = string.ascii_letters + string.digits


def now_iso():
    """The current time as the hub prints dates: ISO 8601, milliseconds, 'Z'."""
    return iso(datetime.datetime.now(datetime.timezone.utc))


def iso(moment):
    moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def parse_iso(text):
    """Parse an ISO time string (as stored by this server or sent by a client); None if it is not one."""
    if not isinstance(text, str):
        return None
    value = text.strip().replace('Z', '+00:00')
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def iso_to_ms(text):
    moment = parse_iso(text)
    return None if moment is None else int(moment.timestamp() * 1000)


def is_uuid(value):
    return isinstance(value, str) and bool(UUID_RE.match(value))


def new_uuid():
    return str(uuid.uuid4())


def is_valid_email(value):
    return isinstance(value, str) and len(value) < 255 and bool(EMAIL_RE.match(value))


def random_token(length):
    return ''.join(secrets.choice(KEY_CHARS) for position in range(length))


def new_legacy_api_key():
    """A key in the 2024 hub's legacy format (what create_account's get_api_key returns)."""
    return 'sk_' + random_token(16)


def key_hash(key):
    # API keys and tokens are long random strings: a plain SHA-256 is enough to make the stored
    # value useless, and it keeps the lookup a single indexed query.
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


def hash_password(password):
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode('utf-8'), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    return 'scrypt$%s$%s' % (base64.b64encode(salt).decode('ascii'), base64.b64encode(digest).decode('ascii'))


def check_password(password, stored):
    if not stored or not isinstance(password, str):
        return False
    try:
        salt, digest = stored.split('$')[1:]
        salt = base64.b64decode(salt)
        expected = base64.b64decode(digest)
    except ValueError:
        return False
    actual = hashlib.scrypt(password.encode('utf-8'), salt=salt, n=2 ** 14, r=8, p=1, dklen=len(expected))
    return secrets.compare_digest(actual, expected)


def base62_decode(text):
    """Decode like the hub's decode62; None when a character is not base 62."""
    number = 0
    for char in text:
        index = BASE62.find(char)
        if index < 0:
            return None
        number = number * 62 + index
    return number


def js_json(value):
    """JSON.stringify(value) without spaces (used inside error texts)."""
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False)


def js_string(value):
    """String(value) as JavaScript prints it inside template strings."""
    if value is None:
        return 'undefined'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, list):
        return ','.join('' if item is None else js_string(item) for item in value)
    if isinstance(value, dict):
        return '[object Object]'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def truthy(value):
    """JavaScript truthiness (form bodies make every value a string, so "false" is true)."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str):
        return value != ''
    return True


def to_utf8(text):
    """Encode text as UTF-8; lone surrogates (possible in JSON input) become U+FFFD as in Node."""
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        return text.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace').encode('utf-8')


def pretty_json(value):
    """The hub's response body: JSON.stringify(value, null, 2)."""
    # backslashreplace turns a lone surrogate into the \\udxxx escape that JSON.stringify writes.
    return json.dumps(value, indent=2, ensure_ascii=False).encode('utf-8', 'backslashreplace')


def deep_merge(old, new):
    """The hub's jsonb merge: maps merge recursively, a null value deletes the key."""
    result = dict(old) if isinstance(old, dict) else {}
    for key, value in new.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def has_null_leaf(value):
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null_leaf(item) for item in value.values())
    if isinstance(value, list):
        return any(has_null_leaf(item) for item in value)
    return False


def shell_escape(word):
    """Quote one word the way the npm shell-escape package does (the hub uses it for bash mode)."""
    if re.search(r'[^A-Za-z0-9_/:=-]', word):
        word = "'" + word.replace("'", "'\\''") + "'"
        word = re.sub(r"^(?:'')+", '', word)
        word = word.replace("\\'''", "\\'")
    return word


def replace_entry(directory, name, make):
    """Put a new entry at name in the directory atomically: make(temporary) creates it under a fresh
    temporary name in the same directory, which is then renamed over name (whatever is there, a
    symlink too, is replaced, never followed); on any failure the temporary entry is removed."""
    temporary = '.%s.%s.tmp' % (name, secrets.token_hex(6))
    try:
        make(temporary)
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=directory)
        except OSError:
            pass
        raise
