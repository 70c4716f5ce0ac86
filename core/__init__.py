"""The ground floor: what every app shares and none owns; imports Django and libraries only, never an app."""
