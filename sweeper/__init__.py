"""sweeper: which settings make gradients vanish or explode, and what fixes it."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) buries sweeper's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
