"""phytotrain: the training recipe that turns labelled crops or tiles into a phytoscreen
classifier pack (docs/pack-format.md, format 2). See docs/training.md."""
