"""`model.activation=<name>` as the TensorFlow op it names."""

from sweeper.train._tf import tf

OPS = {
    "relu": tf.nn.relu,
    "tanh": tf.math.tanh,
    "sigmoid": tf.math.sigmoid,
    "linear": tf.identity,
    "elu": tf.nn.elu,
    "gelu": lambda z: tf.nn.gelu(z, approximate=False),
    "selu": tf.nn.selu,
    "leaky_relu": lambda z: tf.nn.leaky_relu(z, alpha=0.2),
}
