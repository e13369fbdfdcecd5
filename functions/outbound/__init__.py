"""Outbound functions: the reply sender (SQS reply jobs) and SES delivery feedback."""
