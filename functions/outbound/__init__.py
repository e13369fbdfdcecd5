"""Outbound functions: the reply sender (SQS reply jobs) and SES feedback come with the outbound issue."""
