"""Request-wide HTTP concerns: input guard, security headers, error policy."""
