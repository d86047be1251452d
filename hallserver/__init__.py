"""HallServer: the central server the service halls' terminals sync with."""
