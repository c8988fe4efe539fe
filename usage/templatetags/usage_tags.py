"""How usage reads on pages and in emails: durations."""

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as a clock reads them: "0:45", "12:05", "1:02:09" (hours only when needed)."""
    try:
        total = max(int(seconds or 0), 0)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
