"""Configuration: what a config may say (its schema, completed by the registries), whether this one says it
(validation and the cross-field checks), and how its parts merge."""
