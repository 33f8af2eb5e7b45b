"""Makes the package's tests run under the conformance plugin even when pytest did not load it.

pytest normally loads :mod:`polytape.conformance.plugin` through its ``pytest11``
entry point (or ``-p polytape.conformance.plugin``); with plugin autoloading
disabled (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``) this registers it when the
package is collected, so the cases still run (on every available backend: the
``--polytape-*`` options need the plugin loaded before the command line is read).
"""

import pytest

from polytape.conformance import plugin


def pytest_configure(config: pytest.Config) -> None:
    """Register the conformance plugin unless it is already active."""
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "polytape.conformance.plugin")
