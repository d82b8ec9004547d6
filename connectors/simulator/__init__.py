"""The built-in simulated social network: the default connector, so GovSocial runs out of the box."""

from connectors.simulator.connector import SimulatorConnector

__all__ = ["SimulatorConnector"]
