"""Operations on definitions (pipelines, tags, action types) below the API and above the store."""
