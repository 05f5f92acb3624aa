package dev.tessera.io.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds GGUF bytes by hand, field by field, so tests can write files our writer would refuse. */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version and the two counts. */
    static GgufBytes header(long version, long tensorCount, long kvCount) {
        return new GgufBytes().raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensorCount).u64(kvCount);
    }

    int size() {
        return out.size();
    }

    GgufBytes raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u32(long v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    GgufBytes u64(long v) {
        return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    GgufBytes f32(float v) {
        return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array());
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    GgufBytes kvString(String key, String value) {
        return str(key).u32(GgufValueType.STRING.id()).str(value);
    }

    GgufBytes kvU32(String key, long value) {
        return str(key).u32(GgufValueType.UINT32.id()).u32(value);
    }

    /** A tensor info with the given ggml type id and ne (ggml order). */
    GgufBytes tensorInfo(String name, int type, long offset, long... ne) {
        str(name).u32(ne.length);
        for (long d : ne) {
            u64(d);
        }
        return u32(type).u64(offset);
    }

    GgufBytes padTo(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    GgufBytes zeros(int n) {
        return raw(new byte[n]);
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    Path write(Path dir, String name) throws IOException {
        return Files.write(dir.resolve(name), bytes());
    }
}
