"""The runtime: adapters, HTTP server, scheduler, delivery workers, CLI, config, i18n."""
