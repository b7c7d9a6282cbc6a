"""The engine: settings (config files and command-line overrides, one resolver), finding files, and
running the codemods over one file or a batch."""
