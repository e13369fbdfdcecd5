"""HTML bodies: sanitised for display with nh3, and turned into text with inscriptis.

Both libraries are imported on first use (cold start)."""

from __future__ import annotations

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
_URL_SCHEMES = {'http', 'https', 'mailto', 'cid', 'tel'}
_DROP_WITH_CONTENT = {'script', 'style', 'title', 'noscript', 'template', 'iframe', 'object', 'svg', 'math'}


def sanitize(html: str) -> str:
    """Safe HTML for display: no scripts or styles, no event handlers, no javascript: URLs, no
    forms or inputs; http(s), mailto and cid: URLs kept (inline images are served later)."""
    import nh3

    tags = set(nh3.ALLOWED_TAGS) | {'font', 'center', 'u', 's', 'strike'}
    tags -= _DROP_WITH_CONTENT | {'form', 'input', 'button', 'select', 'option', 'textarea', 'label'}
    attributes = {tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, values in _TAG_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(values)
    try:
        return str(
            nh3.clean(
                html,
                tags=tags,
                clean_content_tags=_DROP_WITH_CONTENT,
                attributes=attributes,
                url_schemes=_URL_SCHEMES,
                strip_comments=True,
                link_rel='noopener noreferrer',
            )
        )
    except Exception:  # noqa: BLE001 - never show unsanitised HTML
        import html as html_lib

        return html_lib.escape(to_text(html))


def to_text(html: str) -> str:
    """Readable text from HTML (tables and lists laid out), '' when it cannot be read."""
    if not html.strip():
        return ''
    try:
        from inscriptis import get_text

        return str(get_text(html))
    except Exception:  # noqa: BLE001 - fall back to stripping tags
        import re
        from html import unescape

        stripped = re.sub(r'(?is)<(script|style)[^>]*>.*?</\1>', ' ', html)
        return unescape(re.sub(r'<[^>]+>', ' ', stripped))
