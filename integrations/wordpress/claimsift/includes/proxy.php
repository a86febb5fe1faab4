<?php
/**
 * POST /wp-json/claimsift/v1/analyze: the editor's blocks in, the service's per-block result out.
 *
 * The route runs on the WordPress server, adds the API key there and forwards to the service's
 * POST /v1/extract with {"blocks": [...]}; the browser only ever talks to WordPress (with its REST
 * nonce), so the key never reaches it. Each block's text is the plain text of its rich-text value, so the
 * service's UTF-16 offsets are positions in exactly the string the block editor annotates.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Registers the proxy route.
 */
function claimsift_register_routes() {
	register_rest_route(
		'claimsift/v1',
		'/analyze',
		array(
			'methods'             => 'POST',
			'callback'            => 'claimsift_analyze',
			'permission_callback' => function () {
				return current_user_can( 'edit_posts' );
			},
			'args'                => array(
				'blocks' => array(
					'required'          => true,
					'type'              => 'array',
					'validate_callback' => 'claimsift_validate_blocks',
				),
			),
		)
	);
}

/**
 * Blocks must be a non-empty list of {id, text} strings, within the request limit.
 *
 * @param mixed $blocks The `blocks` parameter.
 * @return true|WP_Error
 */
function claimsift_validate_blocks( $blocks ) {
	if ( ! is_array( $blocks ) || 0 === count( $blocks ) ) {
		return new WP_Error( 'claimsift_no_blocks', __( 'blocks must be a non-empty list', 'claimsift' ), array( 'status' => 400 ) );
	}
	if ( count( $blocks ) > CLAIMSIFT_MAX_BLOCKS ) {
		/* translators: %d: the most blocks one request may carry. */
		return new WP_Error( 'claimsift_too_many_blocks', sprintf( __( 'at most %d blocks per request', 'claimsift' ), CLAIMSIFT_MAX_BLOCKS ), array( 'status' => 413 ) );
	}
	foreach ( $blocks as $block ) {
		if ( ! is_array( $block ) || ! isset( $block['id'], $block['text'] ) || ! is_string( $block['id'] ) || ! is_string( $block['text'] ) ) {
			return new WP_Error( 'claimsift_bad_block', __( 'each block needs a string id and a string text', 'claimsift' ), array( 'status' => 400 ) );
		}
	}
	return true;
}

/**
 * Forwards the blocks to the service and passes its answer (or its error) back to the editor.
 *
 * @param WP_REST_Request $request The editor's request.
 * @return WP_REST_Response|WP_Error
 */
function claimsift_analyze( WP_REST_Request $request ) {
	$settings = claimsift_settings();
	if ( '' === $settings['url'] ) {
		return new WP_Error( 'claimsift_not_configured', __( 'Set the service URL under Settings → Claimsift.', 'claimsift' ), array( 'status' => 503 ) );
	}
	$blocks = array();
	foreach ( $request->get_param( 'blocks' ) as $block ) {
		$blocks[] = array(
			'id'   => $block['id'],
			'text' => $block['text'],
		);
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
			'body'    => wp_json_encode( array( 'blocks' => $blocks ) ),
			'timeout' => $settings['timeout'],
		)
	);
	if ( is_wp_error( $response ) ) {
		// The transport message names the host and the failure, never the key.
		return new WP_Error( 'claimsift_unreachable', $response->get_error_message(), array( 'status' => 502 ) );
	}
	$status = (int) wp_remote_retrieve_response_code( $response );
	$body   = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $body ) ) {
		/* translators: %d: HTTP status of the claimsift service. */
		return new WP_Error( 'claimsift_bad_response', sprintf( __( 'the service answered %d without JSON', 'claimsift' ), $status ), array( 'status' => 502 ) );
	}
	if ( 200 !== $status ) {
		$code    = isset( $body['error']['code'] ) ? (string) $body['error']['code'] : 'http_' . $status;
		$message = isset( $body['error']['message'] ) ? (string) $body['error']['message'] : '';
		// A 401 from the service is this site's misconfiguration, not the editor's: say so as a 502.
		$editor_status = 401 === $status ? 502 : $status;
		return new WP_Error( 'claimsift_' . $code, $message, array( 'status' => $editor_status ) );
	}
	return new WP_REST_Response( $body, 200 );
}
