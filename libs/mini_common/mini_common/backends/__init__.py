"""Database backends of mini_common (``ENGINE = "mini_common.backends.postgresql"``)."""
