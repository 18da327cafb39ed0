"""The realm file: one declarative description of clients, practitioners and options."""
