"""HTML bodies: sanitised for display with nh3, and turned into text with inscriptis.

Both libraries are imported on first use (cold start)."""

from __future__ import annotations

import re
from typing import Any

_TAG_ATTRIBUTES: dict[str, set[str]] = {
    'a': {'href', 'title', 'name'},
    'img': {'src', 'alt', 'title', 'width', 'height', 'border', 'align'},
    'table': {'width', 'border', 'cellpadding', 'cellspacing', 'align', 'bgcolor'},
    'td': {'width', 'height', 'colspan', 'rowspan', 'align', 'valign', 'bgcolor'},
    'th': {'width', 'height', 'colspan', 'rowspan', 'align', 'valign', 'bgcolor'},
    'tr': {'align', 'valign', 'bgcolor'},
    'font': {'color', 'face', 'size'},
    'p': {'align'},
    'div': {'align'},
    'ol': {'start', 'type'},
    'li': {'value'},
}
_BLANK_LINES = re.compile(r'\n{3,}')
_URL_SCHEMES = {'http', 'https', 'mailto', 'cid', 'tel'}
# Inline images pasted into a mail (Outlook, Gmail signatures) as data: URLs: raster formats only,
# never SVG (it can carry script) and never on links.
_DATA_IMAGE = re.compile(r'\s*data:image/(?:png|jpe?g|gif|webp|bmp);base64,[A-Za-z0-9+/=\s]*\Z', re.IGNORECASE)
# `style` keeps how the mail looks; properties that load URLs or lay content over the page are dropped.
# (Compared as written: older Outlook writes them in upper case.)
_STYLE_PROPERTIES = {
    'color', 'background-color', 'font', 'font-family', 'font-size', 'font-style', 'font-weight',
    'line-height', 'letter-spacing', 'text-align', 'text-decoration', 'text-indent', 'text-transform',
    'vertical-align', 'white-space', 'word-wrap', 'overflow-wrap', 'word-break', 'direction', 'display',
    'width', 'height', 'max-width', 'min-width', 'max-height', 'overflow',
    'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left',
    'padding', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left',
    'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color', 'border-style',
    'border-width', 'border-collapse', 'border-spacing', 'border-radius', 'list-style-type',
}  # fmt: skip
_DROP_WITH_CONTENT = {'script', 'style', 'title', 'noscript', 'template', 'iframe', 'object', 'svg', 'math'}


def _only_data_images(element: str, attribute: str, value: str) -> str | None:
    if value.lstrip()[:5].lower() != 'data:':
        return value
    return value if element == 'img' and attribute == 'src' and _DATA_IMAGE.match(value) else None


def sanitise(html: str) -> str:
    """Safe HTML for display: no scripts or style sheets, no event handlers, no javascript: URLs,
    no forms or inputs; http(s), mailto and cid: URLs kept (inline images are served later), and
    data: URLs only for raster images in `<img src>`; `style` attributes keep layout and colour
    properties only."""
    import nh3

    tags = set(nh3.ALLOWED_TAGS) | {'font', 'center', 'u', 's', 'strike'}
    tags -= _DROP_WITH_CONTENT | {'form', 'input', 'button', 'select', 'option', 'textarea', 'label'}
    attributes = {tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, values in _TAG_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(values)
    attributes.setdefault('*', set()).add('style')
    has_data_urls = 'data:' in html.lower()
    try:
        return str(
            nh3.clean(
                html,
                tags=tags,
                clean_content_tags=_DROP_WITH_CONTENT,
                attributes=attributes,
                attribute_filter=_only_data_images if has_data_urls else None,
                filter_style_properties=_STYLE_PROPERTIES | {name.upper() for name in _STYLE_PROPERTIES},
                url_schemes=_URL_SCHEMES | {'data'} if has_data_urls else _URL_SCHEMES,
                strip_comments=True,
                link_rel='noopener noreferrer',
            )
        )
    except Exception:  # noqa: BLE001 - never show unsanitised HTML
        import html as html_lib

        return html_lib.escape(to_text(html))


def to_text(html: str, links: bool = True) -> str:
    """Readable text from HTML: blocks, line breaks, lists and tables laid out (inscriptis, strict
    CSS profile, so no indentation from nested divs); hidden (`display:none`), script and style
    content left out; a link's target shown after its words (`our site <https://...>`) unless the
    words already hold it (unless `links` is false). '' when it cannot be read."""
    if not html.strip():
        return ''
    try:
        from inscriptis import Inscriptis
        from inscriptis.css_profiles import CSS_PROFILES
        from inscriptis.model.config import ParserConfig
        from lxml.etree import ParserError  # type: ignore[import-untyped]
        from lxml.html import document_fromstring  # type: ignore[import-untyped]

        content = html.strip()
        if content.startswith('<?xml '):
            content = content[content.find('>') + 1 :]
        try:
            tree = document_fromstring(content)
        except ParserError:
            tree = document_fromstring('<pre>' + content + '</pre>')
        if links:
            _show_link_targets(tree)
        text = str(Inscriptis(tree, ParserConfig(css=CSS_PROFILES['strict'])).get_text())
        # Table cells are padded to the column width: no trailing blanks, at most one empty line.
        return _BLANK_LINES.sub('\n\n', '\n'.join(line.rstrip() for line in text.split('\n')))
    except Exception:  # noqa: BLE001 - fall back to stripping tags
        from html import unescape

        stripped = re.sub(r'(?is)<(script|style)[^>]*>.*?</\1>', ' ', html)
        return unescape(re.sub(r'<[^>]+>', ' ', stripped))


def _show_link_targets(tree: Any) -> None:
    """Append ` <target>` to the words of every http(s) / mailto link whose words do not already
    show the target (image-only links are left alone)."""
    for link in tree.iter('a'):
        href = ' '.join(str(link.get('href') or '').split())
        scheme = href.split(':', 1)[0].lower()
        if scheme not in ('http', 'https', 'mailto') or len(href) > 2048:
            continue
        target = href[len('mailto:') :].split('?', 1)[0] if scheme == 'mailto' else href
        words = ' '.join(str(link.text_content()).split())
        bare = target.split('://', 1)[-1].rstrip('/').lower()
        if not words or not target or bare in words.lower() or words.lower().rstrip('/') in (bare, 'www.' + bare):
            continue
        suffix = f' <{target}>'
        children = list(link)
        if children:
            children[-1].tail = (children[-1].tail or '') + suffix
        else:
            link.text = (link.text or '') + suffix


def text_to_html(text: str) -> str:
    """A plain-text stretch shown inside an HTML body: escaped, line breaks kept."""
    from html import escape

    lines = text.replace('\r\n', '\n').replace('\r', '\n').strip('\n').split('\n')
    return '<div>' + '<br>\n'.join(escape(line, quote=False) for line in lines) + '</div>'
