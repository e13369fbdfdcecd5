"""Bytes to text for mail: declared charsets first, then a fallback chain that never gives up.

The chain, for a body or a raw 8-bit header: the charset the part declares (repaired when it is
misspelled or an alias Python lacks), UTF-8, the other charsets declared anywhere in the message,
then a guess between windows-1252, ISO-8859-2, KOI8-R and windows-1251 from the letters each
decoding yields. Nothing here raises; U+FFFD appears only for bytes no candidate can read."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

_ALIASES = {
    'uft-8': 'utf-8',
    'utf8': 'utf-8',
    'utf-8': 'utf-8',
    'unicode-1-1-utf-8': 'utf-8',
    'x-unicode20utf8': 'utf-8',
    'unicode-1-1-utf-7': 'utf-7',
    'x-utf-7': 'utf-7',
    'gb2312': 'gb18030',
    'gb_2312-80': 'gb18030',
    'gbk': 'gb18030',
    'x-gbk': 'gb18030',
    'cp936': 'gb18030',
    'chinese': 'gb18030',
    'csgb2312': 'gb18030',
    'euc-cn': 'gb18030',
    'big5': 'big5hkscs',
    'x-big5': 'big5hkscs',
    'shift_jis': 'cp932',
    'shift-jis': 'cp932',
    'sjis': 'cp932',
    'x-sjis': 'cp932',
    'windows-31j': 'cp932',
    'iso-2022-jp': 'iso2022_jp_ext',
    'csiso2022jp': 'iso2022_jp_ext',
    'euc-kr': 'cp949',
    'ks_c_5601-1987': 'cp949',
    'ks_c_5601': 'cp949',
    'iso-8859-8-i': 'iso-8859-8',
    'iso-8859-6-i': 'iso-8859-6',
    'iso-8859-1': 'cp1252',  # what every client means by it (WHATWG)
    'latin1': 'cp1252',
    'latin-1': 'cp1252',
    'iso8859-1': 'cp1252',
    'iso_8859-1': 'cp1252',
    'us-ascii': 'ascii',
    'ansi_x3.4-1968': 'ascii',
    'x-user-defined': 'cp1252',
    'windows-874': 'cp874',
    'x-mac-roman': 'mac_roman',
    'macintosh': 'mac_roman',
    'unknown-8bit': '',
    'x-unknown': '',
    'unknown': '',
    'default': '',
    'charset': '',
}
_META_CHARSET = re.compile(rb'<meta[^>]{0,200}?charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]{1,40})', re.IGNORECASE)


_CP1252_HOLES = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))


def _per_byte_cp1252(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read each undecodable byte as windows-1252 (latin-1 for its holes)."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = bytes(err.object[err.start : err.end])
    return ''.join(chr(b) if b in _CP1252_HOLES else bytes([b]).decode('cp1252') for b in bad), err.end


codecs.register_error('inboxdesk-cp1252', _per_byte_cp1252)


def normalise_charset(name: str | None) -> str:
    """A Python codec name for a declared charset, '' when none is usable."""
    if not name:
        return ''
    cleaned = str(name).strip().strip('"\'').strip().lower()
    cleaned = cleaned.split('*', 1)[0]  # RFC 2231 language suffix: utf-8*en
    if not cleaned:
        return ''
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    try:
        codec = codecs.lookup(cleaned).name
    except (LookupError, ValueError):
        squeezed = cleaned.replace('_', '-').replace(' ', '')
        if squeezed in _ALIASES:
            return _ALIASES[squeezed]
        try:
            codec = codecs.lookup(squeezed).name
        except (LookupError, ValueError):
            return ''
    # Codecs that would not turn bytes into text.
    if codec in {'base64', 'hex', 'quopri', 'rot-13', 'uu', 'zlib', 'bz2', 'mbcs'}:
        return ''
    if codec == 'latin-1':
        return 'cp1252'
    if codec == 'gb2312' or codec == 'gbk':
        return 'gb18030'
    return codec


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None
    except Exception:  # a codec bug (utf-7 on odd input, iso2022 state) must not escape
        return None


def _letter_score(text: str) -> float:
    """How much a decoding looks like words: non-ASCII letters count, symbols and controls cost."""
    score = 0.0
    for ch in text:
        if ch < '\x80':
            continue
        if ch.isalpha():
            score += 1.0
        elif ch.isspace() or ch in '€–—‘’“”•…«»°§©®´·½¼¾£¥¢':
            score += 0.2
        else:
            score -= 1.0
    return score


_RUSSIAN = frozenset('абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ')
_WORD = re.compile(r'[^\W\d_]+')


def _cyrillic_fit(text: str) -> float | None:
    """How well a KOI8-R / windows-1251 decoding reads as Russian: None when it does not fit (other
    symbols among the 8-bit characters, fewer than three letters, or Cyrillic letters glued to Latin
    ones inside words), else the share of lower-case letters (running text is mostly lower case)."""
    high = [ch for ch in text if ch >= '\x80']
    if not high or sum(1 for ch in high if ch in _RUSSIAN) < 0.9 * len(high):
        return None
    words = [w for w in _WORD.findall(text) if any(ch in _RUSSIAN for ch in w)]
    mixed = sum(1 for w in words if any(ch.isascii() for ch in w))
    if mixed * 5 > len(words):
        return None
    letters = [ch for ch in high if ch in _RUSSIAN]
    if len(letters) < 3:  # one or two 8-bit letters say nothing (`Rechnung \xe4.pdf` is not Russian)
        return None
    return sum(1 for ch in letters if ch.islower()) / len(letters)


def guess_single_byte(data: bytes) -> str:
    """Decode 8-bit text whose charset is unknown (see `guess_single_byte_codec`)."""
    codec = guess_single_byte_codec(data)
    return data.decode(codec, errors='replace' if codec in ('koi8-r', 'cp1251') else 'inboxdesk-cp1252')


def guess_single_byte_codec(data: bytes) -> str:
    """The single-byte charset 8-bit text of unknown charset most likely uses.

    KOI8-R or windows-1251 when the result reads as Russian words (KOI8-R puts lower case at
    0xC0-0xDF, windows-1251 at 0xE0-0xFF, so the one with more lower case wins); otherwise the
    Latin charset (windows-1252, ISO-8859-2) that yields the most letters, windows-1252 on a tie."""
    sample = data if len(data) <= 65536 else data[:65536]
    best_cyrillic, best_fit = '', -1.0
    for codec in ('koi8-r', 'cp1251'):
        fit = _cyrillic_fit(sample.decode(codec, errors='replace'))
        if fit is not None and fit > best_fit + 0.01:
            best_cyrillic, best_fit = codec, fit
    if best_cyrillic:
        return best_cyrillic
    best_codec, best_score = 'cp1252', _letter_score(sample.decode('cp1252', errors='inboxdesk-cp1252'))
    latin2 = _letter_score(sample.decode('iso-8859-2', errors='replace'))
    return 'iso-8859-2' if latin2 > best_score + 0.5 else best_codec


_SINGLE_BYTE_FAMILY = re.compile(r'^(cp125\d|iso8859-\d+|iso-8859-\d+|latin-?\d|koi8-[ru]|mac-roman|cp874|ascii)$')


def decode_bytes(data: bytes, declared: str | None = None, hints: Iterable[str] = ()) -> str:
    """Text from bytes, never raising. `declared` is the part's charset, `hints` the other
    charsets declared in the message (the next candidates after UTF-8)."""
    if not data:
        return ''
    if data[:2] in (b'\xff\xfe', b'\xfe\xff') or data[:3] == b'\xef\xbb\xbf':
        # A byte order mark names the encoding whatever the label says (HTML's rule too).
        boms = {b'\xff\xfe': ('utf-32', 'utf-16'), b'\xfe\xff': ('utf-16',), b'\xef\xbb': ('utf-8-sig',)}
        for bom_codec in boms[data[:2]]:
            text = _strict(data, bom_codec)
            if text is not None:
                return text
    codec = normalise_charset(declared)
    if data.isascii():
        if b'\x1b' in data:  # ISO-2022 escapes are 7-bit
            for candidate in (codec, 'iso2022_jp_ext', 'iso2022_jp_2', 'iso2022_kr'):
                text = _strict(data, candidate) if candidate else None
                if text is not None:
                    return text
        if codec in ('utf-7', 'hz') and (b'+' in data or b'~{' in data):
            text = _strict(data, codec)
            if text is not None:
                return text
        return data.decode('ascii')
    if codec == 'ascii':
        codec = ''  # 8-bit bytes under a us-ascii label: the label is wrong
    if codec:
        if _SINGLE_BYTE_FAMILY.match(codec):
            as_utf8 = _strict(data, 'utf-8')
            if as_utf8 is not None:  # valid UTF-8 with multibyte sequences: mislabelled UTF-8
                return as_utf8
        text = _strict(data, codec)
        if text is not None:
            return text
        if codec == 'cp1252':
            return data.decode('cp1252', errors='inboxdesk-cp1252')
        if codec == 'utf-8':
            return data.decode('utf-8', errors='inboxdesk-cp1252')
    text = _strict(data, 'utf-8')
    if text is not None:
        return text
    for hint in hints:
        other = normalise_charset(hint)
        if other and other not in ('ascii', 'utf-8', codec):
            text = _strict(data, other)
            if text is not None:
                return text
    if _mostly_utf8(data):
        return data.decode('utf-8', errors='inboxdesk-cp1252')
    if codec:  # a multibyte charset with a few broken sequences: keep what it can read
        try:
            text = data.decode(codec, errors='replace')
            if text.count('\ufffd') * 50 < len(text):
                return text
        except Exception:  # noqa: BLE001 - codec bugs must not escape
            pass
    return guess_single_byte(data)


def _mostly_utf8(data: bytes) -> bool:
    """True when most 8-bit bytes form valid UTF-8 sequences (a UTF-8 text with a few stray bytes)."""
    text = data[:65536].decode('utf-8', errors='surrogateescape')
    bad = sum(1 for ch in text if '\udc80' <= ch <= '\udcff')
    good = sum(1 for ch in text if ch >= '\x80' and not ('\udc80' <= ch <= '\udcff'))
    return good > 0 and good >= bad * 2


def html_meta_charset(data: bytes) -> str:
    """The charset an HTML document names in a <meta> tag, '' when none."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode('ascii', errors='ignore') if match else ''
