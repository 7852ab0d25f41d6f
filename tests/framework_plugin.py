"""A plugin declaring one op for two frameworks: how a user points gradproof at torch and JAX functions."""

from tests import framework_ops
from verification.frameworks import custom_op

custom_op(
    "softplus_fw",
    spec=framework_ops.SOFTPLUS,
    torch=framework_ops.StableSoftplus,
    jax=framework_ops.softplus,
)
