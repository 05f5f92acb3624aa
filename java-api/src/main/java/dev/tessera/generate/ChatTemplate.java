package dev.tessera.generate;

import java.util.List;

/**
 * Prompt formats of chat-tuned models, rendered as llama.cpp renders its built-in templates of the
 * same name. Control tokens appear as text ({@code <s>}, {@code </s>}) and must be tokenized with
 * special-token parsing on.
 */
public enum ChatTemplate {
    /**
     * LLaMA-2 chat: {@code <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant}</s>}
     * then {@code <s>[INST] {user} [/INST]} for each later turn.
     */
    LLAMA2 {
        @Override
        String render(List<Message> messages, boolean addGenerationPrompt, boolean first) {
            StringBuilder sb = new StringBuilder();
            String system = null;
            boolean firstUser = first;
            for (Message m : messages) {
                switch (m.role()) {
                    case SYSTEM -> system = m.content().strip();
                    case USER -> {
                        sb.append("<s>[INST] ");
                        if (system != null && firstUser) {
                            sb.append("<<SYS>>\n").append(system).append("\n<</SYS>>\n\n");
                        }
                        firstUser = false;
                        sb.append(m.content().strip()).append(" [/INST]");
                    }
                    case ASSISTANT -> sb.append(' ').append(m.content().strip()).append("</s>");
                }
            }
            return sb.toString();
        }

        @Override
        public List<String> stopStrings() {
            return List.of("</s>", "[INST]");
        }
    },
    /**
     * Vicuna v1.1 (used by LLaVA-1.5): {@code {system}\n\nUSER: {user}\nASSISTANT: {assistant}</s>\n},
     * generation prompt {@code ASSISTANT:}.
     */
    VICUNA {
        @Override
        String render(List<Message> messages, boolean addGenerationPrompt, boolean first) {
            // A later turn follows the previous reply's "</s>", which the template ends with a newline.
            StringBuilder sb = new StringBuilder(first ? "" : "\n");
            for (Message m : messages) {
                switch (m.role()) {
                    case SYSTEM -> sb.append(m.content().strip()).append("\n\n");
                    case USER -> sb.append("USER: ").append(m.content().strip()).append('\n');
                    case ASSISTANT -> sb.append("ASSISTANT: ").append(m.content().strip()).append("</s>\n");
                }
            }
            if (addGenerationPrompt) {
                sb.append("ASSISTANT:");
            }
            return sb.toString();
        }

        @Override
        public List<String> stopStrings() {
            return List.of("</s>", "\nUSER:");
        }
    };

    /** Who said it. */
    public enum Role { SYSTEM, USER, ASSISTANT }

    /** One turn of a conversation. */
    public record Message(Role role, String content) {
        public Message {
            if (role == null || content == null) {
                throw new IllegalArgumentException("role and content are required");
            }
        }
    }

    /** The whole conversation as prompt text; with a generation prompt, ready for the reply. */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, true);
    }

    /**
     * Renders messages that continue a conversation; first = whether they start it (the system
     * prompt and the first-turn prefix depend on it).
     */
    abstract String render(List<Message> messages, boolean addGenerationPrompt, boolean first);

    /** Strings that end an assistant turn when the model writes them as text. */
    public abstract List<String> stopStrings();

    /** The template named as llama.cpp names it ("llama2", "vicuna"). */
    public static ChatTemplate byName(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "llama2", "llama-2" -> LLAMA2;
            case "vicuna", "vicuna-v1" -> VICUNA;
            default -> throw new IllegalArgumentException("unknown chat template '" + name + "' (known: llama2, vicuna)");
        };
    }
}
