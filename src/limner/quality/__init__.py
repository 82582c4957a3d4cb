"""Quality control: checks, agreement and consensus on core objects."""
