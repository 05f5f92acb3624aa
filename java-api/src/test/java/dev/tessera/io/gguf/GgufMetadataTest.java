package dev.tessera.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class GgufMetadataTest {
    private static GgufMetadata metadata() {
        LinkedHashMap<String, GgufValue> m = new LinkedHashMap<>();
        m.put("u8", new GgufValue.UInt8(200));
        m.put("i16", new GgufValue.Int16((short) -5));
        m.put("u32.max", new GgufValue.UInt32(0xFFFF_FFFFL));
        m.put("u64.big", new GgufValue.UInt64(-1L));
        m.put("i64", new GgufValue.Int64(1L << 40));
        m.put("f32", new GgufValue.Float32(0.5f));
        m.put("f64", new GgufValue.Float64(0.25));
        m.put("name", new GgufValue.Str("llama"));
        m.put("flag", new GgufValue.Bool(true));
        m.put("ids", GgufArray.ofUInt32(1, 2, -1));
        m.put("words", GgufArray.ofStrings("a", "b"));
        m.put("scores", GgufArray.ofFloat64(1.5, -2));
        return new GgufMetadata("model.gguf", m);
    }

    @Test
    void integerGettersAcceptEveryIntegerTypeThatFits() {
        GgufMetadata m = metadata();
        assertEquals(200, m.getInt("u8"));
        assertEquals(-5, m.getInt("i16"));
        assertEquals(0xFFFF_FFFFL, m.getLong("u32.max"));
        assertEquals(1L << 40, m.getLong("i64"));
        assertEquals(7, m.getInt("missing", 7));
        assertArrayEquals(new long[] {1, 2, 0xFFFF_FFFFL}, m.getLongArray("ids"));
    }

    @Test
    void integerGettersRejectValuesThatDoNotFit() {
        GgufMetadata m = metadata();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.getInt("u32.max"));
        assertEquals("model.gguf: metadata key 'u32.max' = 4294967295 does not fit in an int", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.getInt("i64"));
        assertThrows(IllegalArgumentException.class, () -> m.getLong("u64.big"));
        assertThrows(IllegalArgumentException.class, () -> m.getIntArray("ids"));
    }

    @Test
    void floatAndStringAndBoolGetters() {
        GgufMetadata m = metadata();
        assertEquals(0.5f, m.getFloat("f32"));
        assertEquals(0.25f, m.getFloat("f64"));
        assertEquals(0.25, m.getDouble("f64"));
        assertEquals("llama", m.getString("name"));
        assertEquals("x", m.getString("missing", "x"));
        assertTrue(m.getBoolean("flag"));
        assertArrayEquals(new float[] {1.5f, -2f}, m.getFloatArray("scores"));
        assertEquals(java.util.List.of("a", "b"), m.getStringArray("words"));
    }

    @Test
    void missingKeyNamesTheFileAndKey() {
        NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> metadata().getString("general.name"));
        assertEquals("model.gguf: no metadata key 'general.name'", e.getMessage());
    }

    @Test
    void wrongTypeNamesTheActualAndExpectedTypes() {
        GgufMetadata m = metadata();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.getString("u8"));
        assertEquals("model.gguf: metadata key 'u8' is UINT8, expected STRING", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.getStringArray("ids"));
        assertEquals("model.gguf: metadata key 'ids' is ARRAY of UINT32, expected ARRAY of STRING", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.getFloat("u8"));
        assertThrows(IllegalArgumentException.class, () -> m.getInt("f32"));
        assertThrows(IllegalArgumentException.class, () -> m.getBoolean("name"));
        assertThrows(IllegalArgumentException.class, () -> m.getArray("name"));
        assertThrows(IllegalArgumentException.class, () -> m.getFloatArray("words"));
        assertThrows(IllegalArgumentException.class, () -> m.getInt("name", 3)); // a default never hides a wrong type
    }

    @Test
    void arraysKeepOrderAndCompareByContent() {
        assertEquals(GgufArray.ofStrings("a", "b"), metadata().getArray("words"));
        assertEquals(GgufArray.ofFloat32(Float.NaN), GgufArray.ofFloat32(Float.NaN));
        assertEquals("GgufArray[UINT32 x 3: 1, 2, 4294967295]", metadata().getArray("ids").toString());
        assertEquals(new GgufValue.UInt32(0xFFFF_FFFFL), metadata().getArray("ids").get(2));
        assertThrows(IndexOutOfBoundsException.class, () -> metadata().getArray("ids").get(3));
        assertEquals(java.util.List.of("u8", "i16", "u32.max", "u64.big", "i64", "f32", "f64", "name", "flag", "ids",
                "words", "scores"), java.util.List.copyOf(metadata().keys()));
    }

    @Test
    void valueRecordsRejectOutOfRangeUnsignedValues() {
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.UInt8(256));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.UInt16(-1));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.UInt32(1L << 32));
    }
}
