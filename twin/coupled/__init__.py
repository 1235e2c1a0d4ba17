"""The coupled city on one clock: a hazard drives traffic, water and compute through their public APIs."""
