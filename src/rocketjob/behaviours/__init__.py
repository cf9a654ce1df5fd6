"""What a job class can ask for beyond perform(): retries, and (to come) cron, throttles."""
