"""Training: the only package that imports TensorFlow (engine, measure, optim, and the
components, which import it inside the functions that run in a program)."""
