// Quiet logs in tests unless asked; tests never inherit a developer's data directory.
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'test';
