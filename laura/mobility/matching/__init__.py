"""Finding the drivers nearest to a pickup: geometry, H3 cells and ranking."""
