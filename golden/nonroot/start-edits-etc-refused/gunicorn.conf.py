bind = "0.0.0.0:__PORT__"
