package dev.myllm.server;

/**
 * An error answered in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}},
 * with its HTTP status.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 for a bad field, naming it. */
    static ApiError badField(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, "invalid_value", message);
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, "invalid_request_error", null, null, message);
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, "invalid_request_error", null, "invalid_api_key", message);
    }

    /**
     * 500 for a bug or a failure of the server itself: the client learns that it happened, not
     * its details (class names, messages about internals), which go to the server's log ({@link #detail}).
     */
    static ApiError internal() {
        return new ApiError(500, "server_error", null, "internal_error",
                "The server had an internal error while processing your request (its log says why); you may retry it");
    }

    /** An internal error as one line of the server's log: the exception and where it was thrown (its first frames). */
    static String detail(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e).replace('\n', ' '));
        StackTraceElement[] frames = e.getStackTrace();
        for (int i = 0; i < Math.min(6, frames.length); i++) sb.append(i == 0 ? " at " : " < ").append(frames[i]);
        return sb.toString();
    }

    static ApiError notFound(String param, String code, String message) {
        return new ApiError(404, "invalid_request_error", param, code, message);
    }
}
