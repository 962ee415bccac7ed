"""The web app's pages, one module per area; each page calls the services the API's routes call."""
