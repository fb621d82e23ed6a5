"""phytodetect: the recipe for the learned object detector (docs/detector.md): a small
fully convolutional network that finds every particle of a real microscope frame as a
box (a centre heatmap and the box's size at every position, CenterNet's way), trained
on hand-boxed real frames (testdata/real-frames-train) and judged on the held-out
annotated set (testdata/real-frames)."""
