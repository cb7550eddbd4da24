"""/incident, and alerts from monitoring opening, joining and resolving incidents."""
