//! Diesel table definitions, kept by hand in step with `migrations/`.

diesel::table! {
    apps (id) {
        id -> Int8,
        name -> Text,
        app_key -> Text,
        app_secret -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamptz>,
        encrypt_uploads -> Bool,
    }
}

diesel::table! {
    videos (id) {
        id -> Int8,
        app_id -> Int8,
        parent_id -> Nullable<Int8>,
        unique_id -> Nullable<Int8>,
        source_name -> Text,
        create_time -> Timestamptz,
        update_time -> Timestamptz,
        file_size -> Int8,
        video_width -> Nullable<Int4>,
        video_height -> Nullable<Int4>,
        duration -> Nullable<Int8>,
        hash -> Nullable<Text>,
        definition -> Nullable<Text>,
        storage_uri -> Text,
        status -> Text,
        image_index -> Int4,
        image_count -> Int4,
        task_priority -> Int4,
        progress -> Int2,
        error -> Nullable<Text>,
        passthrough -> Nullable<Text>,
        media_info -> Nullable<Jsonb>,
        playlist_uri -> Nullable<Text>,
        sprite_uri -> Nullable<Text>,
        thumbnails_uri -> Nullable<Text>,
        published_uri -> Nullable<Text>,
        output_prefix -> Nullable<Text>,
        ladder_complete -> Bool,
        ladder_chunks -> Int4,
        ladder_chunks_done -> Int4,
        kind -> Text,
        encrypt -> Bool,
    }
}

diesel::table! {
    text_tracks (id) {
        id -> Int8,
        video_id -> Int8,
        language -> Text,
        name -> Text,
        kind -> Text,
        is_default -> Bool,
        content -> Text,
        cues -> Int4,
        end_ms -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    generations (video_id, generation) {
        video_id -> Int8,
        generation -> Text,
        sealed_key -> Nullable<Text>,
        timeline_pts -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    video_snapshots (id) {
        id -> Int8,
        video_id -> Int8,
        image_index -> Int4,
        storage_uri -> Text,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        file_size -> Int8,
        create_time -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        app_id -> Nullable<Int8>,
        video_id -> Nullable<Int8>,
        payload -> Jsonb,
        priority -> Int4,
        state -> Text,
        attempts -> Int4,
        run_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        worker -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        waiting_for -> Int4,
    }
}

diesel::table! {
    job_dependencies (job_id, depends_on) {
        job_id -> Int8,
        depends_on -> Int8,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int8,
        app_id -> Int8,
        url -> Text,
        events -> Array<Text>,
        secret -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        webhook_id -> Int8,
        app_id -> Int8,
        event_id -> Text,
        event -> Text,
        video_id -> Int8,
        payload -> Jsonb,
        state -> Text,
        attempts -> Int4,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Int8,
        at -> Timestamptz,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
    }
}

diesel::table! {
    added_audio (id) {
        id -> Int8,
        video_id -> Int8,
        language -> Text,
        name -> Text,
        source_key -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    added_audio_outputs (track_id, generation) {
        track_id -> Int8,
        generation -> Text,
    }
}

diesel::table! {
    download_requests (video_id) {
        video_id -> Int8,
        definitions -> Array<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    downloads (video_id, definition) {
        video_id -> Int8,
        definition -> Text,
        generation -> Text,
        storage_key -> Text,
        file_size -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    app_download_defaults (app_id) {
        app_id -> Int8,
        definitions -> Array<Text>,
    }
}

diesel::table! {
    clips (video_id) {
        video_id -> Int8,
        parent_id -> Nullable<Int8>,
        start_ms -> Int8,
        end_ms -> Int8,
        precise -> Bool,
        generation -> Nullable<Text>,
        files -> Array<Text>,
    }
}

diesel::table! {
    watermarks (id) {
        id -> Int8,
        app_id -> Int8,
        name -> Text,
        image_key -> Text,
        image_format -> Text,
        image_width -> Int4,
        image_height -> Int4,
        image_bytes -> Int8,
        position -> Text,
        margin -> Float8,
        scale -> Float8,
        opacity -> Float8,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    video_watermarks (video_id) {
        video_id -> Int8,
        watermark_id -> Nullable<Int8>,
    }
}

diesel::table! {
    upload_sessions (id) {
        id -> Text,
        app_id -> Int8,
        receiving -> Bool,
        size -> Int8,
        expires_at -> Timestamptz,
        keep_until -> Timestamptz,
        session -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    upload_parts (upload_id, part) {
        upload_id -> Text,
        part -> Int4,
        md5 -> Text,
    }
}

diesel::table! {
    upload_locks (name) {
        name -> Text,
        token -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(videos -> apps (app_id));
diesel::joinable!(watermarks -> apps (app_id));
diesel::joinable!(video_watermarks -> videos (video_id));
diesel::joinable!(video_watermarks -> watermarks (watermark_id));
diesel::joinable!(added_audio -> videos (video_id));
diesel::joinable!(added_audio_outputs -> added_audio (track_id));
diesel::joinable!(video_snapshots -> videos (video_id));
diesel::joinable!(text_tracks -> videos (video_id));
diesel::joinable!(generations -> videos (video_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    apps,
    videos,
    video_snapshots,
    jobs,
    job_dependencies,
    settings,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    text_tracks,
    generations,
    added_audio,
    added_audio_outputs,
    download_requests,
    downloads,
    app_download_defaults,
    clips,
    watermarks,
    video_watermarks
);
