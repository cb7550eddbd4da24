"""/summary: the morning health post and the daily and weekly reports, by hand and on schedule."""
