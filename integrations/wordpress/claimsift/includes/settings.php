<?php
/**
 * Settings → Claimsift: the service URL, the API key and the timeout.
 *
 * The key can also come from wp-config.php (define( 'CLAIMSIFT_API_KEY', '...' );), which keeps it out of
 * the database; a constant wins over the stored option. The key is never printed back into a page.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Stored settings merged over the defaults, with wp-config.php constants on top.
 *
 * @return array{url: string, api_key: string, timeout: int}
 */
function claimsift_settings() {
	$stored   = get_option( CLAIMSIFT_OPTION, array() );
	$settings = array_merge(
		array(
			'url'     => 'http://127.0.0.1:8000',
			'api_key' => '',
			'timeout' => 20,
		),
		is_array( $stored ) ? $stored : array()
	);
	if ( defined( 'CLAIMSIFT_SERVICE_URL' ) ) {
		$settings['url'] = (string) CLAIMSIFT_SERVICE_URL;
	}
	if ( defined( 'CLAIMSIFT_API_KEY' ) ) {
		$settings['api_key'] = (string) CLAIMSIFT_API_KEY;
	}
	return $settings;
}

/**
 * Registers the option and its fields with the Settings API.
 */
function claimsift_register_settings() {
	register_setting(
		'claimsift',
		CLAIMSIFT_OPTION,
		array(
			'type'              => 'array',
			'sanitize_callback' => 'claimsift_sanitize_settings',
			'show_in_rest'      => false, // the key must never be readable through the REST API
		)
	);
	add_settings_section( 'claimsift_service', __( 'Service', 'claimsift' ), '__return_false', 'claimsift' );
	add_settings_field( 'claimsift_url', __( 'Service URL', 'claimsift' ), 'claimsift_field_url', 'claimsift', 'claimsift_service' );
	add_settings_field( 'claimsift_api_key', __( 'API key', 'claimsift' ), 'claimsift_field_api_key', 'claimsift', 'claimsift_service' );
	add_settings_field( 'claimsift_timeout', __( 'Timeout (seconds)', 'claimsift' ), 'claimsift_field_timeout', 'claimsift', 'claimsift_service' );
}

/**
 * Cleans what the settings form sent; a blank key field keeps the stored key.
 *
 * @param mixed $input The submitted option value.
 * @return array
 */
function claimsift_sanitize_settings( $input ) {
	$input   = is_array( $input ) ? $input : array();
	$current = get_option( CLAIMSIFT_OPTION, array() );
	$current = is_array( $current ) ? $current : array();

	$url = isset( $input['url'] ) ? esc_url_raw( trim( (string) $input['url'] ), array( 'http', 'https' ) ) : '';
	if ( '' === $url ) {
		add_settings_error( CLAIMSIFT_OPTION, 'claimsift_url', __( 'The service URL must be an http(s) URL.', 'claimsift' ) );
		$url = isset( $current['url'] ) ? $current['url'] : '';
	}

	$key = isset( $input['api_key'] ) ? trim( (string) $input['api_key'] ) : '';
	if ( ! empty( $input['clear_api_key'] ) ) {
		$key = '';
	} elseif ( '' === $key ) {
		$key = isset( $current['api_key'] ) ? (string) $current['api_key'] : '';
	}

	$timeout = isset( $input['timeout'] ) ? absint( $input['timeout'] ) : 20;
	return array(
		'url'     => untrailingslashit( $url ),
		'api_key' => sanitize_text_field( $key ),
		'timeout' => max( 2, min( 120, $timeout ) ),
	);
}

/**
 * Adds Settings → Claimsift.
 */
function claimsift_add_settings_page() {
	add_options_page( 'Claimsift', 'Claimsift', 'manage_options', 'claimsift', 'claimsift_render_settings_page' );
}

/**
 * The settings page.
 */
function claimsift_render_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="wrap"><h1>' . esc_html__( 'Claimsift', 'claimsift' ) . '</h1>';
	echo '<p>' . esc_html__( 'The editor sends post text to this site, which forwards it to the claimsift service with the key below. Browsers never see the key.', 'claimsift' ) . '</p>';
	echo '<form action="options.php" method="post">';
	settings_fields( 'claimsift' );
	do_settings_sections( 'claimsift' );
	submit_button();
	echo '</form></div>';
}

/**
 * The URL field.
 */
function claimsift_field_url() {
	$settings = claimsift_settings();
	printf(
		'<input type="url" class="regular-text" name="%1$s[url]" value="%2$s" %3$s> <p class="description">%4$s</p>',
		esc_attr( CLAIMSIFT_OPTION ),
		esc_attr( $settings['url'] ),
		defined( 'CLAIMSIFT_SERVICE_URL' ) ? 'disabled' : '',
		esc_html__( 'Where claimsift serve listens, e.g. http://10.0.0.5:8000. Set by CLAIMSIFT_SERVICE_URL in wp-config.php if that is defined.', 'claimsift' )
	);
}

/**
 * The key field: write-only, the stored key is never echoed.
 */
function claimsift_field_api_key() {
	$settings = claimsift_settings();
	if ( defined( 'CLAIMSIFT_API_KEY' ) ) {
		echo '<p>' . esc_html__( 'Set by CLAIMSIFT_API_KEY in wp-config.php.', 'claimsift' ) . '</p>';
		return;
	}
	$placeholder = '' !== $settings['api_key'] ? __( '(saved; leave blank to keep)', 'claimsift' ) : __( '(none: the service has no keys)', 'claimsift' );
	printf(
		'<input type="password" class="regular-text" autocomplete="off" name="%1$s[api_key]" value="" placeholder="%2$s"> <label><input type="checkbox" name="%1$s[clear_api_key]" value="1"> %3$s</label>',
		esc_attr( CLAIMSIFT_OPTION ),
		esc_attr( $placeholder ),
		esc_html__( 'Remove the saved key', 'claimsift' )
	);
}

/**
 * The timeout field.
 */
function claimsift_field_timeout() {
	$settings = claimsift_settings();
	printf(
		'<input type="number" min="2" max="120" name="%1$s[timeout]" value="%2$d">',
		esc_attr( CLAIMSIFT_OPTION ),
		(int) $settings['timeout']
	);
}
