"""The simulator as the registry, the connect form and the composer see it."""

from connectors.base import Field, Network
from connectors.simulator.connector import SimulatorConnector
from connectors.simulator.limits import LIMITS

NETWORKS = (
    Network(
        name="simulator",
        label="Simulator (training and exercises)",
        connector=SimulatorConnector,
        fields=(
            Field("handle", "Handle", "The exercise account's name, for example @cityofexample."),
            Field("display_name", "Display name", required=False),
            Field("scenario", "Scenario", "normal or flood: which exercise script feeds the inbox.", required=False),
        ),
        limits=LIMITS,
    ),
)
