<?php
/**
 * The one call to the claimsift service (POST /v1/extract), shared by the editor's route and the
 * background queue, and the one place its failures become messages an editor can act on.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Sends a request body to the service's /v1/extract and returns its decoded answer.
 *
 * Errors carry `status` (what the editor's route answers) and `retry` (true when the post itself is fine
 * and a later try may succeed: the service is down, busy, or refuses this site's key).
 *
 * @param array $body The /v1/extract request: {"blocks": [...]} or {"text": ..., "format": "html"}.
 * @return array|WP_Error
 */
function claimsift_service_extract( array $body ) {
	$settings = claimsift_settings();
	if ( '' === $settings['url'] ) {
		return claimsift_service_error( 'claimsift_not_configured', __( 'Set the service URL under Settings → Claimsift.', 'claimsift' ), 503, true );
	}
	$headers = array(
		'Content-Type' => 'application/json',
		'Accept'       => 'application/json',
	);
	if ( '' !== $settings['api_key'] ) {
		$headers['X-API-Key'] = $settings['api_key'];
	}
	$response = wp_remote_post(
		$settings['url'] . '/v1/extract',
		array(
			'headers' => $headers,
			'body'    => wp_json_encode( $body ),
			'timeout' => $settings['timeout'],
		)
	);
	if ( is_wp_error( $response ) ) {
		/* translators: 1: the service URL, 2: the transport error (it names the host, never the key). */
		$message = sprintf( __( 'Could not reach the claimsift service at %1$s: %2$s', 'claimsift' ), $settings['url'], $response->get_error_message() );
		return claimsift_service_error( 'claimsift_unreachable', $message, 502, true );
	}
	$status = (int) wp_remote_retrieve_response_code( $response );
	if ( 401 === $status || 403 === $status ) {
		// The site's configuration, not the editor's request: a 502 for the editor, retried in the queue.
		return claimsift_service_error( 'claimsift_key_refused', __( "The claimsift service refused this site's API key. An administrator can set it under Settings → Claimsift.", 'claimsift' ), 502, true );
	}
	$decoded = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $decoded ) ) {
		/* translators: %d: HTTP status of the claimsift service. */
		return claimsift_service_error( 'claimsift_bad_response', sprintf( __( 'The claimsift service answered %d without JSON.', 'claimsift' ), $status ), 502, true );
	}
	if ( 200 !== $status ) {
		return claimsift_service_failure( $status, $decoded );
	}
	return $decoded;
}

/**
 * A non-200 answer with the service's error body: a 4xx says this text cannot be checked as it is (not
 * retried), anything else is the service's trouble (retried).
 *
 * @param int   $status  HTTP status of the service.
 * @param array $decoded Its JSON body, {"error": {"code", "message"}}.
 * @return WP_Error
 */
function claimsift_service_failure( $status, array $decoded ) {
	$code    = isset( $decoded['error']['code'] ) ? sanitize_key( (string) $decoded['error']['code'] ) : 'http_' . $status;
	$message = isset( $decoded['error']['message'] ) ? (string) $decoded['error']['message'] : '';
	/* translators: 1: HTTP status, 2: the service's error message. */
	$message = sprintf( __( 'The claimsift service answered %1$d: %2$s', 'claimsift' ), $status, $message );
	$busy    = 429 === $status || $status >= 500;
	return claimsift_service_error( 'claimsift_' . $code, $message, $status >= 500 ? 502 : $status, $busy );
}

/**
 * A WP_Error with the status for the REST answer and whether a later try may succeed.
 *
 * @param string $code    Error code.
 * @param string $message What the editor reads.
 * @param int    $status  HTTP status for the editor's route.
 * @param bool   $retry   True when the failure is not this post's fault.
 * @return WP_Error
 */
function claimsift_service_error( $code, $message, $status, $retry ) {
	return new WP_Error(
		$code,
		$message,
		array(
			'status' => $status,
			'retry'  => $retry,
		)
	);
}
