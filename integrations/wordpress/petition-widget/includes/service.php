<?php
/**
 * The campaign's public numbers, fetched by WordPress rather than by readers' browsers, and
 * cached: a click-to-load card and a server-side counter show the count without any request
 * from the reader to the service.
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

const PETITION_WIDGET_FRESH_SECONDS = 60;   // how long a fetched count is shown as it is.
const PETITION_WIDGET_RETRY_SECONDS = 30;   // after a failed fetch, how long before the next try.
const PETITION_WIDGET_KEEP_SECONDS  = 86400; // how long the last good count stands in for a failure.

/**
 * The campaign's title, count, goal and status from the service's counter API
 * (GET /api/campaigns/SLUG), or null if it has never answered.
 *
 * @param string $slug The campaign's slug (already checked).
 * @return array|null
 */
function petition_widget_campaign( $slug ) {
	$service = petition_widget_service();
	$key     = 'petition_widget_' . md5( $service . '|' . $slug );
	$fresh   = get_transient( $key );
	if ( is_array( $fresh ) ) {
		return empty( $fresh['count_known'] ) ? null : $fresh;
	}
	$found = petition_widget_fetch( $service, $slug );
	if ( null !== $found ) {
		set_transient( $key, $found, PETITION_WIDGET_FRESH_SECONDS );
		set_transient( $key . '_last', $found, PETITION_WIDGET_KEEP_SECONDS );
		return $found;
	}
	// The service did not answer: show the last good numbers, and do not ask again on every page view.
	$last = get_transient( $key . '_last' );
	$shown = is_array( $last ) ? $last : array( 'count_known' => false );
	set_transient( $key, $shown, PETITION_WIDGET_RETRY_SECONDS );
	return is_array( $last ) ? $last : null;
}

/**
 * One request to the service, bounded in time.
 *
 * @param string $service The service's origin.
 * @param string $slug    The campaign's slug.
 * @return array|null
 */
function petition_widget_fetch( $service, $slug ) {
	$response = wp_remote_get(
		$service . '/api/campaigns/' . rawurlencode( $slug ),
		array(
			'timeout'     => 3,
			'redirection' => 0,
			'headers'     => array( 'Accept' => 'application/json' ),
			'user-agent'  => 'petition-widget-wordpress/' . PETITION_WIDGET_VERSION,
		)
	);
	if ( is_wp_error( $response ) || 200 !== wp_remote_retrieve_response_code( $response ) ) {
		return null;
	}
	$body = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $body ) || ! isset( $body['count'] ) || ! is_int( $body['count'] ) ) {
		return null;
	}
	return array(
		'count_known' => true,
		'title'       => isset( $body['title'] ) ? (string) $body['title'] : '',
		'count'       => $body['count'],
		'goal'        => isset( $body['goal'] ) && is_int( $body['goal'] ) ? $body['goal'] : null,
		'status'      => isset( $body['status'] ) ? (string) $body['status'] : '',
	);
}
