"""Is a file a whole entry of XLA's persistent compile cache, named by its own key?

Read without TensorFlow's protobuf classes (its wheel ships none for this message): a
protocol buffer's wire format is a run of (field number and kind, value) pairs, so
walking the top-level fields, stepping over the megabytes of HLO and executable by
their lengths, finds a truncated or padded file, and the small key is read whole.
"""

import io

TF_PREFIX = "xla_compile_cache"  # TensorFlow's --tf_xla_persistent_cache_prefix


def entry_problem(name: str, data: bytes) -> str | None:
    """What is wrong with the bytes of an entry named `name`, or None.

    The entry is tensorflow/compiler/jit/xla_compilation_cache.proto's
    XlaSerializedCacheEntry {key = 1; hlo_module = 2; executable = 3}, its key
    XlaSerializedCacheKey {signature_fingerprint = 1; cluster_fingerprint = 2;
    device_type = 3; compiled_using_pjrt = 4; prefix = 5}, and TensorFlow names the
    file `<prefix>__<signature>__<cluster>__<device>.pb`, the prefix its
    --tf_xla_persistent_cache_prefix unless the key holds one.
    """
    return problem(name, io.BytesIO(data), len(data))


def problem(name: str, handle, size: int) -> str | None:
    fields = _fields(handle, size, keep=(1,))
    if fields is None:
        return "not a whole protocol buffer (truncated?)"
    raw = fields.get(1)
    key = _fields(io.BytesIO(raw), len(raw), keep=(3, 5)) if raw else None
    if not key or not fields.get(2) or not fields.get(3):
        return "no key, HLO module or executable"
    try:
        prefix, device = key.get(5, b"").decode(), key.get(3, b"").decode()
        signature, cluster = int(key.get(1, 0)), int(key.get(2, 0))
    except (AttributeError, TypeError, ValueError, UnicodeDecodeError):
        return "a key of the wrong types"
    # TensorFlow puts its persistence prefix before the key's fields
    expected = f"{prefix or TF_PREFIX}__{signature}__{cluster}__{device}.pb"
    if name != expected:
        return f"its key names another entry ({expected})"
    return None


def _fields(handle, size: int, keep=()) -> dict | None:
    """The last value of each field of a protocol buffer message of `size` bytes, or
    None if they are not one whole message. Length-delimited fields are read only for
    the numbers in `keep` (small ones); the others, an HLO module or an executable of
    megabytes, are stepped over and stand as their length."""
    fields, at = {}, 0
    while at < size:
        handle.seek(at)
        head = handle.read(24)
        tag, used = _varint(head, 0)
        if tag is None:
            return None
        number, kind = tag >> 3, tag & 7
        if kind == 0:
            value, used = _varint(head, used)
            if value is None:
                return None
            at += used
        elif kind == 2:
            length, used = _varint(head, used)
            if length is None or at + used + length > size:
                return None
            handle.seek(at + used)
            value = handle.read(length) if number in keep and length < 2**16 else length
            at += used + length
        elif kind in (1, 5):
            width = 8 if kind == 1 else 4
            if at + used + width > size:
                return None
            handle.seek(at + used)
            value, at = handle.read(width), at + used + width
        else:
            return None
        if number == 0:
            return None
        fields[number] = value
    return fields


def _varint(data: bytes, at: int) -> tuple:
    value, shift = 0, 0
    while at < len(data) and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return None, at
