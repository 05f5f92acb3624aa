package dev.tessera.io.gguf;

import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Little-endian GGUF encoding through a small buffer into a file channel. */
final class GgufSink {
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    GgufSink(FileChannel channel) {
        this.channel = channel;
    }

    long position() throws IOException {
        return channel.position() + buf.position();
    }

    private ByteBuffer room(int n) throws IOException {
        if (buf.remaining() < n) {
            flush();
        }
        return buf;
    }

    void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        buf.clear();
    }

    void u8(int v) throws IOException {
        room(1).put((byte) v);
    }

    void u16(int v) throws IOException {
        room(2).putShort((short) v);
    }

    void u32(long v) throws IOException {
        room(4).putInt((int) v);
    }

    void u64(long v) throws IOException {
        room(8).putLong(v);
    }

    void f32(float v) throws IOException {
        room(4).putFloat(v);
    }

    void f64(double v) throws IOException {
        room(8).putDouble(v);
    }

    void bytes(byte[] b) throws IOException {
        if (b.length <= buf.capacity()) {
            room(b.length).put(b);
            return;
        }
        flush();
        ByteBuffer wrap = ByteBuffer.wrap(b);
        while (wrap.hasRemaining()) {
            channel.write(wrap);
        }
    }

    void string(String s) throws IOException {
        byte[] b = utf8(s);
        u64(b.length);
        bytes(b);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    void pad(long alignment) throws IOException {
        long pad = GgufParser.alignUp(position(), alignment) - position();
        for (long i = 0; i < pad; i++) {
            u8(0);
        }
    }

    void tensor(Tensor t) throws IOException {
        flush();
        long before = channel.position();
        t.writeTo(channel);
        if (channel.position() - before != t.byteSize()) {
            throw new IOException("wrote " + (channel.position() - before) + " bytes for " + t + ", expected " + t.byteSize());
        }
    }

    void value(GgufValue v) throws IOException {
        switch (v) {
            case GgufValue.UInt8 x -> u8(x.value());
            case GgufValue.Int8 x -> u8(x.value());
            case GgufValue.UInt16 x -> u16(x.value());
            case GgufValue.Int16 x -> u16(x.value());
            case GgufValue.UInt32 x -> u32(x.value());
            case GgufValue.Int32 x -> u32(x.value());
            case GgufValue.Float32 x -> f32(x.value());
            case GgufValue.Bool x -> u8(x.value() ? 1 : 0);
            case GgufValue.Str x -> string(x.value());
            case GgufValue.UInt64 x -> u64(x.bits());
            case GgufValue.Int64 x -> u64(x.value());
            case GgufValue.Float64 x -> f64(x.value());
            case GgufArray a -> array(a);
        }
    }

    private void array(GgufArray a) throws IOException {
        u32(a.elementType().id());
        u64(a.size());
        switch (a.storage()) {
            case byte[] d -> bytes(d);
            case boolean[] d -> {
                for (boolean b : d) {
                    u8(b ? 1 : 0);
                }
            }
            case short[] d -> {
                for (short x : d) {
                    u16(x);
                }
            }
            case int[] d -> {
                for (int x : d) {
                    u32(x);
                }
            }
            case long[] d -> {
                for (long x : d) {
                    u64(x);
                }
            }
            case float[] d -> {
                for (float x : d) {
                    f32(x);
                }
            }
            case double[] d -> {
                for (double x : d) {
                    f64(x);
                }
            }
            case String[] d -> {
                for (String s : d) {
                    string(s);
                }
            }
            default -> throw new AssertionError();
        }
    }

    /** Strict UTF-8: a string with a lone surrogate cannot be written. */
    static byte[] utf8(String s) {
        boolean ascii = true;
        for (int i = 0; i < s.length() && ascii; i++) {
            ascii = s.charAt(i) < 0x80;
        }
        if (ascii) {
            return s.getBytes(StandardCharsets.ISO_8859_1);
        }
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not valid Unicode (lone surrogate): " + s, e);
        }
    }
}
