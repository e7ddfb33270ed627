"""Request records kazoo 2.11 (the newest on PyPI) does not implement, in kazoo's own request style, so
they go through kazoo's real connection code (`KazooClient._call`): TTL and container creates,
getEphemerals, getAllChildrenNumber, whoAmI, checkWatches/removeWatches."""

from collections import namedtuple

from kazoo.protocol.serialization import (
    int_struct,
    long_struct,
    read_string,
    stat_struct,
    write_buffer,
    write_string,
)
from kazoo.protocol.states import ZnodeStat


def _acl_bytes(acls):
    b = bytearray(int_struct.pack(len(acls)))
    for acl in acls:
        b.extend(int_struct.pack(acl.perms) + write_string(acl.id.scheme) + write_string(acl.id.id))
    return b


def _read_create2(buf, offset):
    path, offset = read_string(buf, offset)
    stat = ZnodeStat._make(stat_struct.unpack_from(buf, offset))
    return path, stat


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        return (write_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl)
                + int_struct.pack(self.flags) + long_struct.pack(self.ttl))

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2(buf, offset)


class CreateContainer(namedtuple("CreateContainer", "path data acl")):
    type = 19

    def serialize(self):
        return (write_string(self.path) + write_buffer(self.data) + _acl_bytes(self.acl)
                + int_struct.pack(4))

    @classmethod
    def deserialize(cls, buf, offset):
        return _read_create2(buf, offset)


class GetEphemerals(namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self):
        return write_string(self.prefix)

    @classmethod
    def deserialize(cls, buf, offset):
        (n,) = int_struct.unpack_from(buf, offset)
        offset += 4
        out = []
        for _ in range(n):
            s, offset = read_string(buf, offset)
            out.append(s)
        return out


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return write_string(self.path)

    @classmethod
    def deserialize(cls, buf, offset):
        return int_struct.unpack_from(buf, offset)[0]


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self):
        # kazoo only delivers a reply to a truthy request object; an empty namedtuple is falsy
        return True

    def serialize(self):
        return b""

    @classmethod
    def deserialize(cls, buf, offset):
        (n,) = int_struct.unpack_from(buf, offset)
        offset += 4
        out = []
        for _ in range(n):
            scheme, offset = read_string(buf, offset)
            user, offset = read_string(buf, offset)
            out.append((scheme, user))
        return out


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    type = 18

    def serialize(self):
        return write_string(self.path) + int_struct.pack(self.watcher_type)

    @classmethod
    def deserialize(cls, buf, offset):
        return True


class CheckWatches(RemoveWatches):
    type = 17


def call(client, request, timeout=15):
    """Sends `request` on the kazoo connection and returns its decoded reply (or raises)."""
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=timeout)
