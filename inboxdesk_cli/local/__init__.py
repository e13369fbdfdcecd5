"""The dev runtime: Inboxdesk on one machine, on the embedded AWS (moto server). Not used on Lambda."""
