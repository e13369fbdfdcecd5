"""Outbound functions: the reply sender (`handler`), SES delivery events (`feedback`), the reply sweep (`sweep`)."""
