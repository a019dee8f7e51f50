from mini_common.testing import *  # noqa: F403 - shared fixtures
